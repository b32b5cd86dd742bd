import Synchronization

/// Wakes follow streams when a commit moves the head, and ends them at shutdown.
///
/// Each follower subscribes to an `AsyncStream` of heads that keeps only the newest value, so
/// a slow follower never buffers more than one number; it reads the log itself from where it
/// stands, which is what guarantees order without gaps or duplicates.
final class CommitHub: Sendable {
    private struct State {
        var followers: [Int: AsyncStream<UInt64>.Continuation] = [:]
        var nextID = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let maxFollowers: Int

    /// A hub that admits at most `maxFollowers` streams at once.
    init(maxFollowers: Int) { self.maxFollowers = maxFollowers }

    /// Why a follower was not admitted.
    enum Refusal: Error { case closed, full }

    /// A new follower: its id (for ``unsubscribe(_:)``) and the heads to come.
    func subscribe() -> Result<(id: Int, heads: AsyncStream<UInt64>), Refusal> {
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        let admitted: Result<Int, Refusal> = state.withLock { state in
            if state.closed { return .failure(.closed) }
            if state.followers.count >= maxFollowers { return .failure(.full) }
            let id = state.nextID
            state.nextID += 1
            state.followers[id] = continuation
            return .success(id)
        }
        return admitted.map { (id: $0, heads: stream) }
    }

    /// Forgets a follower.
    func unsubscribe(_ id: Int) {
        let continuation = state.withLock { $0.followers.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// Tells every follower that the head is now `head`.
    func publish(head: UInt64) {
        state.withLock { state in
            for continuation in state.followers.values { continuation.yield(head) }
        }
    }

    /// Ends every follow stream and admits no new one (graceful shutdown).
    func close() {
        let continuations = state.withLock { state in
            state.closed = true
            defer { state.followers.removeAll() }
            return Array(state.followers.values)
        }
        for continuation in continuations { continuation.finish() }
    }
}
