import HummingbirdCore
import Logging
import NIOCore

/// Runs each connection's request handling on the event loop that reads and writes its
/// socket, instead of on Swift's global executor.
///
/// Without a preference, every request crossed threads several times: the event loop read
/// it and woke a global-executor thread to handle it; that thread passed the response back
/// to the event loop to write. On a small request those hand-offs, each a thread wake-up,
/// cost more than the request itself. With the connection's task preferring its channel's
/// event loop (``EventLoopExecutor``), reading, routing, decoding and answering stay on one
/// thread; only the writer's commit crosses to the writer thread and back.
///
/// What could hold an event loop up runs elsewhere: queries, follow-stream reads and a single
/// fact's duplicate answer on the reader pool, judging and committing on the writer thread. A
/// batch's decoding runs here, as does the look-up of a duplicate line's stored record (one
/// read of the memory-mapped log).
struct EventLoopPinnedChannel<Inner: ServerChildChannel>: ServerChildChannel {
    let inner: Inner

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Inner.Value> {
        inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Inner.Value, logger: Logger) async {
        let executor = EventLoopExecutor(value.channel.eventLoop)
        await withTaskExecutorPreference(executor) { await inner.handle(value: value, logger: logger) }
    }
}

/// A task executor that runs jobs on one NIO event loop.
final class EventLoopExecutor: TaskExecutor, Sendable {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
