import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A non-zero return code of an LMDB call, with LMDB's own text for it.
///
/// LMDB returns either its own codes (`MDB_NOTFOUND`, `MDB_MAP_FULL`, …, all negative) or a
/// system `errno` (`ENOSPC`, `EIO`, …, positive). Compare errors by ``code`` against the static
/// constants below.
public struct LMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The raw return code.
    public let code: Int32

    /// `mdb_strerror(code)`, captured when the error was made.
    public let message: String

    /// Wraps a raw, non-zero LMDB return code.
    public init(code: Int32) {
        precondition(code != MDB_SUCCESS, "LMDBError made from MDB_SUCCESS")
        self.code = code
        self.message = String(cString: mdb_strerror(code))
    }

    /// `"LMDB <code>: <message>"`.
    public var description: String { "LMDB \(code): \(message)" }

    /// `MDB_KEYEXIST`: the key/data pair already exists (also: `MDB_APPEND` out of order).
    public static let keyExists = LMDBError(code: MDB_KEYEXIST)
    /// `MDB_NOTFOUND`: no matching key/data pair.
    public static let notFound = LMDBError(code: MDB_NOTFOUND)
    /// `MDB_CORRUPTED`: a page has an invalid type.
    public static let corrupted = LMDBError(code: MDB_CORRUPTED)
    /// `MDB_PANIC`: a fatal error happened earlier; the environment must be closed.
    public static let panic = LMDBError(code: MDB_PANIC)
    /// `MDB_VERSION_MISMATCH`: the environment was made by an incompatible LMDB version.
    public static let versionMismatch = LMDBError(code: MDB_VERSION_MISMATCH)
    /// `MDB_INVALID`: the file is not an LMDB data file.
    public static let invalid = LMDBError(code: MDB_INVALID)
    /// `MDB_MAP_FULL`: the environment's map size is reached.
    public static let mapFull = LMDBError(code: MDB_MAP_FULL)
    /// `MDB_DBS_FULL`: the environment's maximum number of named databases is reached.
    public static let databasesFull = LMDBError(code: MDB_DBS_FULL)
    /// `MDB_READERS_FULL`: every reader slot is taken.
    public static let readersFull = LMDBError(code: MDB_READERS_FULL)
    /// `MDB_TXN_FULL`: the transaction has too many dirty pages.
    public static let transactionFull = LMDBError(code: MDB_TXN_FULL)
    /// `MDB_MAP_RESIZED`: another process grew the map beyond this environment's map size.
    public static let mapResized = LMDBError(code: MDB_MAP_RESIZED)
    /// `MDB_INCOMPATIBLE`: the operation does not fit the database's flags.
    public static let incompatible = LMDBError(code: MDB_INCOMPATIBLE)
    /// `MDB_BAD_TXN`: the transaction must be aborted (an earlier call in it failed).
    public static let badTransaction = LMDBError(code: MDB_BAD_TXN)
    /// `MDB_BAD_VALSIZE`: a key or value has an unsupported size (keys: 1…511 bytes).
    public static let badValueSize = LMDBError(code: MDB_BAD_VALSIZE)
    /// `MDB_BAD_DBI`: the database handle changed or is not valid here.
    public static let badDatabase = LMDBError(code: MDB_BAD_DBI)
    /// `ENOSPC`: no space left on the device.
    public static let noSpace = LMDBError(code: ENOSPC)
    /// `EIO`: an I/O error from the device.
    public static let io = LMDBError(code: EIO)
    /// `EDQUOT`: the disk quota is exceeded.
    public static let quotaExceeded = LMDBError(code: EDQUOT)
    /// `EFBIG`: the file would exceed the maximum file size.
    public static let fileTooLarge = LMDBError(code: EFBIG)
    /// `ENOENT`: the directory or file does not exist.
    public static let noSuchFile = LMDBError(code: ENOENT)
    /// `EACCES`: permission denied.
    public static let permissionDenied = LMDBError(code: EACCES)
    /// `EINVAL`: an invalid argument (for instance, resizing while a transaction is active).
    public static let invalidArgument = LMDBError(code: EINVAL)

    /// Matches an error against a constant in `catch` clauses: `catch LMDBError.notFound`.
    public static func ~= (pattern: LMDBError, error: any Error) -> Bool {
        (error as? LMDBError)?.code == pattern.code
    }

    /// Whether the error means that the storage cannot take more data: the map cannot hold
    /// it, or the device is full, over quota, or failing.
    public var isOutOfSpace: Bool {
        code == MDB_MAP_FULL || code == ENOSPC || code == EDQUOT || code == EFBIG || code == EIO
    }
}

/// Turns an LMDB return code into a thrown ``LMDBError``.
@inline(__always)
func lmdbCheck(_ returnCode: Int32) throws(LMDBError) {
    if returnCode != MDB_SUCCESS { throw LMDBError(code: returnCode) }
}
