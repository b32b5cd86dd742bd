import NIOCore

/// Holds a connection's full close until the writes before it reached the socket.
///
/// At graceful shutdown Hummingbird closes a connection right after queueing the end of its
/// last response. A long response (an NDJSON batch's results) can still be partly in NIO's
/// write buffer then, waiting for the client to read, and a close drops what is unwritten:
/// the client got a response cut mid-line for facts that were all committed. This handler
/// sits between Hummingbird's connection state and the HTTP encoder; a close that finds bytes
/// still buffered in the channel waits, looking again every ``checkInterval``, until they are
/// all written, the connection is gone, or ``flushTimeLimit`` passed (so that a client that
/// stops reading cannot hold the shutdown).
///
/// It looks at the channel's buffer (`ChannelOptions.bufferedWritableBytes`) only when a
/// close comes: writes pass through untouched. (Counting each write's completion cost every
/// response part a promise and a callback, ~1% of the daemon's CPU on single-fact requests.)
final class CloseAfterWritesHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    /// The longest a close waits for buffered writes.
    static let flushTimeLimit = TimeAmount.seconds(10)
    /// How often a held close looks at the buffer again.
    static let checkInterval = TimeAmount.milliseconds(5)

    private var deferredClose: EventLoopPromise<Void>?
    private var deadline: NIODeadline?

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, Self.bufferedBytes(context) > 0 else {
            context.close(mode: mode, promise: promise)
            return
        }
        let combined = context.eventLoop.makePromise(of: Void.self)
        if let promise { combined.futureResult.cascade(to: promise) }
        if let earlier = deferredClose { combined.futureResult.cascade(to: earlier) }
        deferredClose = combined
        if deadline == nil {
            deadline = .now() + Self.flushTimeLimit
            scheduleCheck(context: context)
        }
    }

    private func scheduleCheck(context: ChannelHandlerContext) {
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.checkInterval) { self.check(context: context) }
    }

    /// Closes now if nothing is left to write (or the wait is over), else looks again later.
    private func check(context: ChannelHandlerContext) {
        guard let promise = deferredClose, let deadline else { return }
        if context.channel.isActive, Self.bufferedBytes(context) > 0, NIODeadline.now() < deadline {
            scheduleCheck(context: context)
            return
        }
        deferredClose = nil
        self.deadline = nil
        context.close(mode: .all, promise: promise)
    }

    /// Bytes written to the channel and not yet to the socket.
    private static func bufferedBytes(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }
}

@available(*, unavailable)
extension CloseAfterWritesHandler: Sendable {}
