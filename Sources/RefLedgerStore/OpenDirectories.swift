import Foundation
import Synchronization

/// The data directories this process has open, by device and inode.
///
/// LMDB forbids opening one environment twice in a process: its lock file uses POSIX record
/// locks, which closing either copy releases for both, after which another process may
/// reinitialize the lock table under the first copy. So a second ``EventLog`` on the same
/// directory in one process is refused; share the first one instead (its reads are
/// thread-safe, and a writer serves reads too).
enum OpenDirectories {
    struct Key: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    private static let open = Mutex<Set<Key>>([])

    /// Registers `directory` as open in this process.
    ///
    /// - Throws: ``StoreError`` ``StoreError/Code/directoryLocked`` if it already is, or
    ///   ``StoreError/Code/io`` if it cannot be examined.
    static func register(_ directory: String) throws(StoreError) -> Key {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw StoreError(.io, "cannot examine \(directory): \(String(cString: strerror(errno)))")
        }
        let key = Key(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        let inserted = open.withLock { $0.insert(key).inserted }
        guard inserted else {
            throw StoreError(
                .directoryLocked,
                "this process already has the data directory \(directory) open; use that event log "
                    + "(LMDB does not allow one environment to be opened twice in a process)"
            )
        }
        return key
    }

    /// Marks a directory registered with ``register(_:)`` as closed.
    static func unregister(_ key: Key) {
        _ = open.withLock { $0.remove(key) }
    }
}
