import CHeap
import Foundation

/// Maps in, on a background thread, the memory the calling thread's allocator hands out next,
/// so that the thread applying facts does not stop at each fresh page to have the kernel map and
/// zero it.
///
/// A ledger only grows: applying a million facts touches ~160 MB of memory never used before,
/// ~40,000 pages, each a page fault. On the project's VM a fault costs from under 1 µs to
/// ~15 µs by phase (the host backs guest memory lazily), and in the slow phases faults were 40%
/// of applying facts. The thread that starts this is bound to a jemalloc arena whose memory
/// comes from one region reserved up front and handed out from its low end up, in steps of
/// 2 MiB or of what one allocation needs when that is more (CHeap); this thread pre-faults the
/// `span` bytes above what the arena has taken (`MADV_POPULATE_WRITE`, which maps pages without
/// changing what they hold) whenever that moves, on the core the judging thread leaves free.
/// Memory in use is never changed: populating a page that is mapped already does nothing.
///
/// The importer starts it when it runs on the process's main thread, as `refledger import` and
/// the ledger benchmark run it, and so does `refledger query --data` while it rebuilds a ledger.
/// The daemon's writer does without. Where the kernel lacks `MADV_POPULATE_WRITE` (before Linux
/// 5.14) the pre-faulting thread stops at its first try; the calling thread stays bound to the
/// arena, which then works as any other.
public final class HeapPrefaulter: Sendable {
    private let state = State()

    /// Binds the calling thread to the pre-faulted arena (for good: what it allocates after
    /// ``stop()`` still comes from there, without pre-faulting) and starts pre-faulting the
    /// `span` bytes that arena takes next; ``stop()`` (or releasing this) ends it.
    public convenience init(span: Int = 16 << 20) {
        #if os(Linux)
        guard refledger_heap_bind_thread_to_prefaulted_arena() == 0 else {
            self.init(span: span) { 0 }  // nothing to pre-fault: the thread only waits for stop()
            return
        }
        self.init(span: span) { UInt(refledger_heap_prefault_top(span)) }
        #else
        self.init(span: span) { 0 }
        #endif
    }

    /// Pre-faults the `span` bytes below whatever address `top` gives, each time it moves (the
    /// arena's frontier plus `span`, or in tests a region of their own).
    init(span: Int, top: @escaping @Sendable () -> UInt) {
        #if os(Linux)
        let state = self.state
        NamedThread.start("heap-prefault") {
            state.run(span: UInt(span), top: top)
            state.finish()
        }
        #else
        state.finish()
        #endif
    }

    /// A pre-faulter when the caller runs on the process's main thread, else `nil`: other threads
    /// (tests running side by side, the daemon's) keep their own arenas.
    public static func forMainThread() -> HeapPrefaulter? { Thread.isMainThread ? HeapPrefaulter() : nil }

    /// Stops the thread and waits for it.
    public func stop() { state.stop(waiting: true) }

    deinit { state.stop(waiting: false) }

    private final class State: @unchecked Sendable {
        // @unchecked: `stopped` and `finished` are only read and written under `lock`.
        private let lock = NSCondition()
        private var stopped = false
        private var finished = false

        func stop(waiting: Bool) {
            lock.lock()
            stopped = true
            lock.broadcast()
            while waiting && !finished { lock.wait() }
            lock.unlock()
        }

        func finish() {
            lock.lock()
            finished = true
            lock.broadcast()
            lock.unlock()
        }

        #if os(Linux)
        /// Pre-faults the span below the top each time the top moves, looking again every
        /// 100 µs while it moves and up to every 2 ms while it does not. (Reading the arena's
        /// frontier is one atomic load.) The span is populated a mebibyte at a time, from
        /// its low end (where the allocator takes memory first), so that ``stop()`` waits for
        /// one step at most.
        func run(span: UInt, top currentTop: () -> UInt) {
            let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
            let step: UInt = 1 << 20
            var lastTop: UInt = 0
            var wait = 0.000_1
            while true {
                let top = currentTop()
                if top != lastTop, top > span {
                    lastTop = top
                    var start = (top - span) & ~(page - 1)
                    while start < top {
                        let length = Int(min(step, top - start))
                        if madvise(UnsafeMutableRawPointer(bitPattern: start), length, Self.populateWrite) != 0,
                            errno == EINVAL
                        {
                            return  // a kernel without MADV_POPULATE_WRITE
                        }
                        start += UInt(length)
                        if isStopped { return }
                    }
                    wait = 0.000_1
                } else {
                    wait = min(wait * 2, 0.002)
                }
                lock.lock()
                if !stopped { _ = lock.wait(until: Date(timeIntervalSinceNow: wait)) }
                let stop = stopped
                lock.unlock()
                if stop { return }
            }
        }

        private var isStopped: Bool {
            lock.lock()
            defer { lock.unlock() }
            return stopped
        }

        /// `MADV_POPULATE_WRITE` (Linux 5.14).
        private static let populateWrite: Int32 = 23
        #endif
    }
}

extension HeapPrefaulter {
    /// Whether the process's `malloc` is jemalloc's, as CHeap links it.
    static var mallocIsJemalloc: Bool { refledger_heap_malloc_is_jemalloc() == 1 }

    /// The lowest address the pre-faulted arena has not taken yet (0 before any thread is bound).
    static var arenaFrontier: UInt { UInt(refledger_heap_prefaulted_arena_frontier()) }

    /// Whether `pointer` lies in the pre-faulted arena's region.
    static func arenaContains(_ pointer: UnsafeRawPointer) -> Bool {
        refledger_heap_prefaulted_arena_contains(pointer) == 1
    }
}
