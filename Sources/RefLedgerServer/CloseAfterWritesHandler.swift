import NIOCore

/// Holds a connection's full close until the writes before it reached the socket.
///
/// At graceful shutdown Hummingbird closes a connection right after queueing the end of its
/// last response. A long response (an NDJSON batch's results) can still be partly in NIO's
/// write buffer then, waiting for the client to read, and a close drops what is unwritten:
/// the client got a response cut mid-line for facts that were all committed. This handler
/// sits between Hummingbird's connection state and the HTTP encoder, counts the writes in
/// flight, and performs a close only when they are all done (written or failed), or after
/// ``flushTimeLimit`` so that a client that stops reading cannot hold the shutdown.
final class CloseAfterWritesHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    /// The longest a close waits for pending writes.
    static let flushTimeLimit = TimeAmount.seconds(10)

    private var pendingWrites = 0
    private var deferredClose: EventLoopPromise<Void>?
    private var closeDeadline: Scheduled<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let written = promise ?? context.eventLoop.makePromise()
        pendingWrites += 1
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.pendingWrites -= 1
            if self.pendingWrites == 0 { self.closeIfDeferred(context: context) }
        }
        context.write(data, promise: written)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, pendingWrites > 0 else {
            context.close(mode: mode, promise: promise)
            return
        }
        let combined = context.eventLoop.makePromise(of: Void.self)
        if let promise { combined.futureResult.cascade(to: promise) }
        if let earlier = deferredClose { combined.futureResult.cascade(to: earlier) }
        deferredClose = combined
        if closeDeadline == nil {
            let loop = context.eventLoop.assumeIsolated()
            closeDeadline = loop.scheduleTask(in: Self.flushTimeLimit) { self.closeIfDeferred(context: context) }
        }
    }

    private func closeIfDeferred(context: ChannelHandlerContext) {
        guard let promise = deferredClose else { return }
        deferredClose = nil
        closeDeadline?.cancel()
        closeDeadline = nil
        context.close(mode: .all, promise: promise)
    }
}

@available(*, unavailable)
extension CloseAfterWritesHandler: Sendable {}
