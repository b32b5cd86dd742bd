/// The one error type of the storage layer: a machine-readable ``code`` and a message meant
/// for a person.
///
/// Callers branch on ``code``; ``Code/storageFull`` is the one the daemon answers with HTTP 507
/// `storage_full`. A storage-full failure changed nothing: the log is as it was before the call.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name, in `snake_case`.
        public let rawValue: String

        /// Wraps a code name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The code's name.
        public var description: String { rawValue }

        /// The map cannot grow any more (``EventLog/Options/maxMapSizeBytes``) or the disk is
        /// full or failing. Nothing of the failed write is visible.
        public static let storageFull = Code(rawValue: "storage_full")
        /// Another process holds the data directory's writer lock.
        public static let directoryLocked = Code(rawValue: "directory_locked")
        /// The data directory (or its LMDB files) does not exist or was never initialized.
        public static let notFound = Code(rawValue: "not_found")
        /// The data directory was written by an incompatible version of refledger.
        public static let incompatibleFormat = Code(rawValue: "incompatible_format")
        /// Stored bytes are damaged or inconsistent.
        public static let corrupted = Code(rawValue: "corrupted")
        /// A caller broke a precondition (a seq out of order, a malformed body, …).
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// An event id is already in the log.
        public static let duplicateID = Code(rawValue: "duplicate_id")
        /// A write was attempted on a log opened read-only.
        public static let readOnly = Code(rawValue: "read_only")
        /// The log was closed.
        public static let closed = Code(rawValue: "closed")
        /// A file operation failed.
        public static let io = Code(rawValue: "io")
        /// LMDB failed in a way not covered above.
        public static let lmdb = Code(rawValue: "lmdb")
        /// zstd failed in a way not covered above.
        public static let zstd = Code(rawValue: "zstd")
    }

    /// What kind of failure this is.
    public let code: Code

    /// What happened, for a person.
    public let message: String

    /// Makes an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }

    /// Whether this is ``Code/storageFull``.
    public var isStorageFull: Bool { code == .storageFull }

    /// A storage-full error with `message`.
    public static func storageFull(_ message: String) -> StoreError { StoreError(.storageFull, message) }

    /// Wraps an LMDB failure met while doing `operation`.
    static func lmdb(_ error: LMDBError, _ operation: String) -> StoreError {
        if error.isOutOfSpace {
            return StoreError(.storageFull, "\(operation): storage full (\(error))")
        }
        if error.code == LMDBError.corrupted.code || error.code == LMDBError.invalid.code {
            return StoreError(.corrupted, "\(operation): \(error)")
        }
        return StoreError(.lmdb, "\(operation): \(error)")
    }

    /// Wraps a zstd failure met while doing `operation`.
    static func zstd(_ error: ZstdError, _ operation: String) -> StoreError {
        if error.systemErrno != 0 { return StoreError(.io, "\(operation): \(error.message)") }
        return StoreError(.zstd, "\(operation): \(error)")
    }
}
