import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers a request's `Expect: 100-continue` with `100 Continue` as soon as its head
/// arrives, so that the client sends its body at once.
///
/// curl asks for this before any body over 1 MB (an NDJSON batch of a few thousand facts)
/// and, unanswered, waits a second before it sends the body anyway: every large batch posted
/// with curl took a second longer than its commit. Hummingbird reads a body only when the
/// route asks for it and sends no interim response, so this handler, between the HTTP codec
/// and Hummingbird's connection handling, does.
///
/// `100 Continue` goes out only when no earlier response on the connection is still being
/// written (a pipelining client), so that it never lands inside another response; such a
/// client then waits for its own timeout, as before. Sending it before the route has looked at
/// the request is what RFC 9110 §10.1.1 allows: the route may still answer with an error,
/// and the body is then read and dropped.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Requests whose head arrived and whose response has not ended yet.
    private var unansweredRequests = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = unwrapInboundIn(data) {
            unansweredRequests += 1
            if unansweredRequests == 1, Self.expectsContinue(request) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unansweredRequests -= 1 }
        context.write(data, promise: promise)
    }

    /// Whether the request carries the `100-continue` expectation (the token is
    /// case-insensitive).
    static func expectsContinue(_ request: HTTPRequest) -> Bool {
        request.headerFields[values: .expect].contains { $0.lowercased() == "100-continue" }
    }
}

@available(*, unavailable)
extension ExpectContinueHandler: Sendable {}
