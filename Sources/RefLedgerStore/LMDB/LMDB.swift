import CLMDB

/// A thin Swift layer over the LMDB C library: an environment, transactions, named
/// databases and cursors. Return codes become thrown ``LMDBError``s; there are no domain
/// types here.
public enum LMDB {
    /// The linked library's version string, e.g. `"LMDB 0.9.24: (July 24, 2019)"`.
    public static var version: String { String(cString: mdb_version(nil, nil, nil)) }
}

extension LMDB {
    /// Flags for opening an ``Environment`` (`mdb_env_open`).
    public struct EnvironmentFlags: OptionSet, Sendable, Hashable {
        /// The raw `MDB_*` flag bits.
        public let rawValue: UInt32

        /// Wraps raw `MDB_*` flag bits.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// `MDB_RDONLY`: open read-only; no write transactions.
        public static let readOnly = EnvironmentFlags(rawValue: UInt32(MDB_RDONLY))
        /// `MDB_NOTLS`: reader slots belong to transaction objects, not threads, so a read
        /// transaction may be used by any one thread at a time.
        public static let noThreadLocalStorage = EnvironmentFlags(rawValue: UInt32(MDB_NOTLS))
        /// `MDB_NOSUBDIR`: the path is the data file itself, not a directory.
        public static let noSubdirectory = EnvironmentFlags(rawValue: UInt32(MDB_NOSUBDIR))
        /// `MDB_NORDAHEAD`: no read-ahead on the map (for data sets larger than memory).
        public static let noReadahead = EnvironmentFlags(rawValue: UInt32(MDB_NORDAHEAD))
    }

    /// What `mdb_env_info` and `mdb_env_stat` report about an open environment.
    public struct EnvironmentInfo: Sendable, Hashable {
        /// The current map size, in bytes.
        public var mapSizeBytes: Int
        /// The last page number in use by the latest committed transaction.
        public var lastPageNumber: Int
        /// The id of the latest committed transaction.
        public var lastTransactionID: Int
        /// The reader table's size.
        public var maxReaders: UInt32
        /// Reader slots in use (including stale ones).
        public var readersUsed: UInt32
        /// The database page size, in bytes.
        public var pageSizeBytes: Int
    }

    /// An open LMDB environment (`MDB_env`).
    ///
    /// The environment itself is thread-safe; its map size may only change while this process
    /// has no transaction open, which its owner guarantees (see ``setMapSize(_:)``).
    public final class Environment: @unchecked Sendable {
        // @unchecked: `pointer` is set once in init and cleared only by `close()`, which the
        // owner calls when no other thread uses the environment. LMDB itself is thread-safe.
        private var pointer: OpaquePointer?

        /// The path the environment was opened at.
        public let path: String

        /// The flags it was opened with.
        public let flags: EnvironmentFlags

        /// Creates and opens an environment (`mdb_env_create`, `mdb_env_set_*`, `mdb_env_open`).
        ///
        /// - Parameters:
        ///   - path: the directory holding `data.mdb` and `lock.mdb` (it must exist).
        ///   - flags: open flags.
        ///   - mapSizeBytes: the map size; `nil` keeps the file's recorded size (or LMDB's
        ///     default for a new file). LMDB rounds it up to the data already in the file.
        ///   - maxDatabases: the number of named databases allowed.
        ///   - maxReaders: reader slots; `nil` keeps LMDB's default (126).
        ///   - permissions: the mode of newly created files.
        public init(
            path: String,
            flags: EnvironmentFlags,
            mapSizeBytes: Int? = nil,
            maxDatabases: UInt32,
            maxReaders: UInt32? = nil,
            permissions: UInt32 = 0o644
        ) throws(LMDBError) {
            var created: OpaquePointer?
            try lmdbCheck(mdb_env_create(&created))
            guard let env = created else { throw LMDBError.invalid }
            do {
                if let mapSizeBytes { try lmdbCheck(mdb_env_set_mapsize(env, mapSizeBytes)) }
                try lmdbCheck(mdb_env_set_maxdbs(env, maxDatabases))
                if let maxReaders { try lmdbCheck(mdb_env_set_maxreaders(env, maxReaders)) }
                try lmdbCheck(mdb_env_open(env, path, flags.rawValue, mdb_mode_t(permissions)))
            } catch {
                mdb_env_close(env)
                throw error
            }
            self.pointer = env
            self.path = path
            self.flags = flags
        }

        deinit { close() }

        /// Closes the environment (`mdb_env_close`). Every transaction must have ended; later
        /// calls on it throw `EINVAL`. Calling it twice is harmless.
        public func close() {
            if let env = pointer {
                mdb_env_close(env)
                pointer = nil
            }
        }

        /// Whether ``close()`` was called.
        public var isClosed: Bool { pointer == nil }

        func handle() throws(LMDBError) -> OpaquePointer {
            guard let env = pointer else { throw LMDBError.invalidArgument }
            return env
        }

        /// Changes the map size (`mdb_env_set_mapsize`); `0` adopts the size recorded in the file
        /// by the writer, as a reader must after `MDB_MAP_RESIZED`.
        ///
        /// The caller guarantees that no transaction of this process is open on the
        /// environment: LMDB remaps the file and cannot check for readers itself.
        public func setMapSize(_ bytes: Int) throws(LMDBError) {
            try lmdbCheck(mdb_env_set_mapsize(try handle(), bytes))
        }

        /// The environment's current sizes and counters.
        public func info() throws(LMDBError) -> EnvironmentInfo {
            let env = try handle()
            var info = MDB_envinfo()
            try lmdbCheck(mdb_env_info(env, &info))
            var stat = MDB_stat()
            try lmdbCheck(mdb_env_stat(env, &stat))
            return EnvironmentInfo(
                mapSizeBytes: info.me_mapsize,
                lastPageNumber: info.me_last_pgno,
                lastTransactionID: info.me_last_txnid,
                maxReaders: info.me_maxreaders,
                readersUsed: info.me_numreaders,
                pageSizeBytes: Int(stat.ms_psize)
            )
        }

        /// Clears reader slots left by dead processes (`mdb_reader_check`); returns how many.
        @discardableResult
        public func clearStaleReaders() throws(LMDBError) -> Int {
            var dead: Int32 = 0
            try lmdbCheck(mdb_reader_check(try handle(), &dead))
            return Int(dead)
        }

        /// Flushes the data buffers to disk (`mdb_env_sync` with `force`).
        public func sync() throws(LMDBError) {
            try lmdbCheck(mdb_env_sync(try handle(), 1))
        }

        /// Begins a transaction (`mdb_txn_begin`). A read-write transaction must end on the thread
        /// that began it; with ``EnvironmentFlags/noThreadLocalStorage`` a read-only one may move.
        public func beginTransaction(readOnly: Bool) throws(LMDBError) -> Transaction {
            var txn: OpaquePointer?
            let flags: UInt32 = readOnly ? UInt32(MDB_RDONLY) : 0
            try lmdbCheck(mdb_txn_begin(try handle(), nil, flags, &txn))
            guard let txn else { throw LMDBError.badTransaction }
            return Transaction(pointer: txn, isReadOnly: readOnly)
        }
    }
}
