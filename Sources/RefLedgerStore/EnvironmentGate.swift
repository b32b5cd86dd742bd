import Foundation

/// Guards an LMDB environment against remapping while this process has transactions open.
///
/// LMDB can change its map size (`mdb_env_set_mapsize`, needed to grow the map and to follow
/// a writer in another process) or be closed only when no transaction of the process is open,
/// and it cannot check that itself. Every transaction runs inside ``withShared(_:)``; resizing,
/// reopening and closing run inside ``withExclusive(_:)``, which waits for the shared holders
/// to leave and keeps new ones out (waiting exclusive users go first, so a stream of readers
/// cannot starve a resize).
///
/// Rule for callers: never call either method while holding the gate on the same thread
/// (never nest), or the thread deadlocks against a waiting exclusive user. Keep shared
/// sections short and free of callbacks into unknown code.
final class EnvironmentGate<State>: @unchecked Sendable {
    // @unchecked: every stored property is read and written only with `condition` locked,
    // and `state` is handed out only to holders of the gate.
    private let condition = NSCondition()
    private var state: State?
    private var sharedHolders = 0
    private var exclusiveActive = false
    private var exclusiveWaiting = 0

    init(_ state: State) { self.state = state }

    /// Runs `body` with the state while no exclusive user runs.
    ///
    /// - Throws: ``StoreError`` (``StoreError/Code/closed``) after ``close(_:)``, or what
    ///   `body` throws.
    func withShared<R>(_ body: (State) throws -> R) throws -> R {
        condition.lock()
        while exclusiveActive || exclusiveWaiting > 0 { condition.wait() }
        guard let current = state else {
            condition.unlock()
            throw StoreError(.closed, "the event log is closed")
        }
        sharedHolders += 1
        condition.unlock()
        defer {
            condition.lock()
            sharedHolders -= 1
            if sharedHolders == 0 { condition.broadcast() }
            condition.unlock()
        }
        return try body(current)
    }

    /// Runs `body` alone: no shared holder and no other exclusive user runs meanwhile. `body`
    /// may replace the state.
    ///
    /// - Throws: ``StoreError`` (``StoreError/Code/closed``) after ``close(_:)``, or what
    ///   `body` throws.
    func withExclusive<R>(_ body: (inout State) throws -> R) throws -> R {
        condition.lock()
        exclusiveWaiting += 1
        while sharedHolders > 0 || exclusiveActive { condition.wait() }
        exclusiveWaiting -= 1
        exclusiveActive = true
        condition.unlock()
        defer {
            condition.lock()
            exclusiveActive = false
            condition.broadcast()
            condition.unlock()
        }
        guard var current = state else { throw StoreError(.closed, "the event log is closed") }
        defer { state = current }
        return try body(&current)
    }

    /// Waits for every holder to leave, then hands the state to `body` for the last time; later
    /// calls throw ``StoreError/Code/closed``. Closing twice is harmless.
    func close(_ body: (State) -> Void) {
        condition.lock()
        exclusiveWaiting += 1
        while sharedHolders > 0 || exclusiveActive { condition.wait() }
        exclusiveWaiting -= 1
        let last = state
        state = nil
        condition.broadcast()
        condition.unlock()
        if let last { body(last) }
    }
}
