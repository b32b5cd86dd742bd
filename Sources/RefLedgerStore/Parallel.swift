import Foundation

/// The per-event steps of a batch that do not depend on one another — decoding facts,
/// writing canonical JSON, compressing records — spread over the machine's cores.
public enum Parallel {
    /// Threads a batch is spread over: the cores, at most 8.
    public static let workers = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))

    /// `transform(i)` for every `i` in `0..<count`, in order.
    ///
    /// With more than one core and at least `minimumPerTask` items per task, the indices are
    /// cut into contiguous runs computed on several threads; `transform` must then be safe to
    /// call from several threads at once (read shared state only). The caller waits for all.
    public static func map<T>(_ count: Int, minimumPerTask: Int = 256, _ transform: (Int) -> T) -> [T] {
        let tasks = min(4 * workers, count / max(1, minimumPerTask))
        guard workers > 1, tasks > 1 else { return (0..<count).map(transform) }
        return withoutActuallyEscaping(transform) { transform in
            let work = UnsafeWork(transform)
            return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                let slots = UnsafeSlots(buffer)
                DispatchQueue.concurrentPerform(iterations: tasks) { task in
                    for index in (task * count / tasks)..<((task + 1) * count / tasks) {
                        (slots.slots.baseAddress! + index).initialize(to: work.transform(index))
                    }
                }
                initialized = count
            }
        }
    }
}

/// The slots of a buffer that parallel workers fill, each a disjoint set of indices.
struct UnsafeSlots<Element>: @unchecked Sendable {
    // @unchecked: each index is written by exactly one worker, and read after all finished.
    let slots: UnsafeMutableBufferPointer<Element>
    init(_ slots: UnsafeMutableBufferPointer<Element>) { self.slots = slots }
}

/// A closure that parallel workers call while its owner waits for all of them.
struct UnsafeWork<Input, Output>: @unchecked Sendable {
    // @unchecked: callers promise the closure only reads what it shares (Parallel.map).
    let transform: (Input) -> Output
    init(_ transform: @escaping (Input) -> Output) { self.transform = transform }
}

/// Work started on another thread now, whose result is taken later: the next batch decoded
/// while this one is applied and committed.
public final class Ahead<Value>: @unchecked Sendable {
    // @unchecked: `result` is written once by the worker before `done` is signalled, and
    // read only after waiting for that signal.
    private let done = DispatchSemaphore(value: 0)
    private var result: Value?

    /// Where the work runs.
    public enum Placement: Sendable {
        /// On libdispatch's global pool (as wide as the cores), beside the caller.
        case pool
        /// On a serial queue of its own, which libdispatch runs on a thread of its overcommitting
        /// pool: for a caller that itself runs on the global pool (a Swift concurrency task),
        /// whose work ahead would otherwise wait for that pool's threads. The overcommitting pool
        /// starts a thread whenever none is free and keeps idle ones for the next work. (A new
        /// thread for each piece of work, as before, gave each a new allocator cache and the
        /// next of the allocator's arenas: `refledger import` of a million facts, ~250 runs of
        /// 4,096 lines, took ~20k more page faults.)
        case ownQueue
    }

    /// Starts `work` now.
    ///
    /// Measured on 2 cores, when `.ownQueue` was a thread of its own: `import` (its judging then
    /// ran as a task on the pool) took 2.07–2.16 s for 300k facts with it against 2.35–2.63 s
    /// with `.pool`; the store benchmark (its caller is a plain thread) appended 301–313k
    /// events/s with `.pool` against 270–285k with it, one thread too many for the cores.
    public init(on placement: Placement = .pool, _ work: @escaping @Sendable () -> Value) {
        let run: @Sendable () -> Void = { self.finish(work) }
        switch placement {
        case .pool: DispatchQueue.global().async(execute: run)
        case .ownQueue: DispatchQueue(label: "refledger.ahead").async(execute: run)
        }
    }

    /// Starts `work` on a serial `queue`, after the work queued there before it.
    init(after queue: DispatchQueue, _ work: @escaping @Sendable () -> Value) {
        queue.async { self.finish(work) }
    }

    private func finish(_ work: () -> Value) {
        result = work()
        done.signal()
    }

    /// Waits for the work to finish and returns its result; call once.
    public func wait() -> Value {
        done.wait()
        guard let result else { preconditionFailure("Ahead.wait() called twice") }
        self.result = nil
        return result
    }
}
