import Foundation

/// An exclusive `flock` on a data directory's `refledger.lock`, held by the one process that
/// writes the directory (the daemon or an import). It is released when closed or when the
/// process dies, however it dies.
final class DirectoryLock: @unchecked Sendable {
    // @unchecked: `fileDescriptor` changes only in `release()`, called once by the owner.
    private var fileDescriptor: Int32

    /// The lock file's name inside the data directory.
    static let fileName = "refledger.lock"

    /// Takes the lock without waiting, and records this process's id in the file.
    ///
    /// - Throws: ``StoreError`` ``StoreError/Code/directoryLocked`` if another process holds
    ///   it, ``StoreError/Code/io`` if the file cannot be opened.
    init(directory: String) throws(StoreError) {
        let path = directory + "/" + Self.fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StoreError(.io, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            if failure == EINTR { continue }
            let holder = Self.recordedProcessID(descriptor)
            close(descriptor)
            if failure == EWOULDBLOCK {
                let who = holder.map { " (pid \($0))" } ?? ""
                throw StoreError(
                    .directoryLocked,
                    "another refledger process (daemon or import)\(who) is writing the data directory "
                        + "\(directory); stop it first, or use a read-only command"
                )
            }
            throw StoreError(.io, "cannot lock \(path): \(String(cString: strerror(failure)))")
        }
        fileDescriptor = descriptor
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 {
            _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        }
    }

    deinit { release() }

    /// Releases the lock. Harmless if already released.
    func release() {
        guard fileDescriptor >= 0 else { return }
        close(fileDescriptor)
        fileDescriptor = -1
    }

    private static func recordedProcessID(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self)
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
