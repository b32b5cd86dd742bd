import CLMDB

extension LMDB {
    /// A named database handle (`MDB_dbi`), valid for the life of its environment once the
    /// transaction that opened it committed.
    public struct Database: Sendable, Hashable {
        /// The raw `MDB_dbi`.
        public let rawValue: UInt32
    }

    /// Flags for ``Transaction/put(_:key:value:flags:)`` (`mdb_put`).
    public struct PutFlags: OptionSet, Sendable, Hashable {
        /// The raw `MDB_*` flag bits.
        public let rawValue: UInt32

        /// Wraps raw `MDB_*` flag bits.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// `MDB_NOOVERWRITE`: fail with ``LMDBError/keyExists`` if the key is present.
        public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
        /// `MDB_APPEND`: the key sorts after every key in the database (fast bulk append);
        /// a key out of order fails with ``LMDBError/keyExists``.
        public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
    }

    /// `mdb_stat` of one database.
    public struct DatabaseStat: Sendable, Hashable {
        /// Page size, in bytes.
        public var pageSizeBytes: Int
        /// Depth of the B-tree.
        public var depth: Int
        /// Internal (non-leaf) pages.
        public var branchPages: Int
        /// Leaf pages.
        public var leafPages: Int
        /// Overflow pages (values too large for a leaf).
        public var overflowPages: Int
        /// Key/value pairs.
        public var entries: Int

        /// Bytes of every page the database uses.
        public var totalBytes: Int { (branchPages + leafPages + overflowPages) * pageSizeBytes }
    }

    /// A transaction (`MDB_txn`). It ends with ``commit()`` or ``abort()``; one still open
    /// when the object is released is aborted. Bytes it returns stay valid until it ends (or,
    /// in a write transaction, until the next write).
    ///
    /// Not `Sendable`: use it on one thread at a time, and end a read-write one on the thread
    /// that began it.
    public final class Transaction {
        private let pointer: OpaquePointer
        private var isFinished = false

        /// Whether the transaction is read-only.
        public let isReadOnly: Bool

        init(pointer: OpaquePointer, isReadOnly: Bool) {
            self.pointer = pointer
            self.isReadOnly = isReadOnly
        }

        deinit {
            if !isFinished { mdb_txn_abort(pointer) }
        }

        private func handle() throws(LMDBError) -> OpaquePointer {
            guard !isFinished else { throw LMDBError.badTransaction }
            return pointer
        }

        /// Commits (`mdb_txn_commit`); with default environment flags a write transaction is on
        /// disk when this returns. On failure the transaction is aborted.
        public func commit() throws(LMDBError) {
            let txn = try handle()
            isFinished = true
            try lmdbCheck(mdb_txn_commit(txn))
        }

        /// Abandons the transaction (`mdb_txn_abort`). Harmless after it ended.
        public func abort() {
            guard !isFinished else { return }
            isFinished = true
            mdb_txn_abort(pointer)
        }

        /// Opens a named database (`mdb_dbi_open`), creating it if asked (write transactions
        /// only). A missing database without `create` throws ``LMDBError/notFound``.
        public func openDatabase(_ name: String, create: Bool) throws(LMDBError) -> Database {
            var dbi: MDB_dbi = 0
            let flags: UInt32 = create ? UInt32(MDB_CREATE) : 0
            try lmdbCheck(mdb_dbi_open(try handle(), name, flags, &dbi))
            return Database(rawValue: dbi)
        }

        /// The value stored under `key`, or `nil` (`mdb_get`).
        public func get(
            _ database: Database,
            key: UnsafeRawBufferPointer
        ) throws(LMDBError)
            -> UnsafeRawBufferPointer?
        {
            let txn = try handle()
            var keyValue = MDB_val(key)
            var data = MDB_val()
            let returnCode = mdb_get(txn, database.rawValue, &keyValue, &data)
            if returnCode == MDB_NOTFOUND { return nil }
            try lmdbCheck(returnCode)
            return UnsafeRawBufferPointer(data)
        }

        /// The value stored under `key`, or `nil` (`mdb_get`), borrowed: the bytes stay valid
        /// until the transaction ends (or, in a write transaction, until the next write).
        public func value(_ database: Database, at key: [UInt8]) throws(LMDBError) -> UnsafeRawBufferPointer? {
            let txn = try handle()
            var data = MDB_val()
            let returnCode = key.withUnsafeBytes { keyBytes in
                var keyValue = MDB_val(keyBytes)
                return mdb_get(txn, database.rawValue, &keyValue, &data)
            }
            if returnCode == MDB_NOTFOUND { return nil }
            try lmdbCheck(returnCode)
            return UnsafeRawBufferPointer(data)
        }

        /// The value stored under `key`, copied, or `nil`.
        public func get(_ database: Database, key: [UInt8]) throws(LMDBError) -> [UInt8]? {
            try value(database, at: key).map { Array($0) }
        }

        /// Stores `value` under `key` (`mdb_put`).
        public func put(
            _ database: Database,
            key: UnsafeRawBufferPointer,
            value: UnsafeRawBufferPointer,
            flags: PutFlags = []
        ) throws(LMDBError) {
            let txn = try handle()
            var keyValue = MDB_val(key)
            var data = MDB_val(value)
            try lmdbCheck(mdb_put(txn, database.rawValue, &keyValue, &data, flags.rawValue))
        }

        /// Stores `value` under `key` (`mdb_put`).
        public func put(
            _ database: Database,
            key: [UInt8],
            value: [UInt8],
            flags: PutFlags = []
        )
            throws(LMDBError)
        {
            let txn = try handle()
            let returnCode = key.withUnsafeBytes { keyBytes in
                value.withUnsafeBytes { valueBytes in
                    var keyValue = MDB_val(keyBytes)
                    var data = MDB_val(valueBytes)
                    return mdb_put(txn, database.rawValue, &keyValue, &data, flags.rawValue)
                }
            }
            try lmdbCheck(returnCode)
        }

        /// Removes `key` and its value (`mdb_del`); returns whether it was there.
        @discardableResult
        public func delete(_ database: Database, key: [UInt8]) throws(LMDBError) -> Bool {
            let txn = try handle()
            let returnCode = key.withUnsafeBytes { keyBytes in
                var keyValue = MDB_val(keyBytes)
                return mdb_del(txn, database.rawValue, &keyValue, nil)
            }
            if returnCode == MDB_NOTFOUND { return false }
            try lmdbCheck(returnCode)
            return true
        }

        /// Page and entry counts of a database (`mdb_stat`).
        public func stat(_ database: Database) throws(LMDBError) -> DatabaseStat {
            var stat = MDB_stat()
            try lmdbCheck(mdb_stat(try handle(), database.rawValue, &stat))
            return DatabaseStat(
                pageSizeBytes: Int(stat.ms_psize),
                depth: Int(stat.ms_depth),
                branchPages: stat.ms_branch_pages,
                leafPages: stat.ms_leaf_pages,
                overflowPages: stat.ms_overflow_pages,
                entries: stat.ms_entries
            )
        }

        /// Opens a cursor on a database (`mdb_cursor_open`). Close it before the transaction ends.
        public func openCursor(_ database: Database) throws(LMDBError) -> Cursor {
            var cursor: OpaquePointer?
            try lmdbCheck(mdb_cursor_open(try handle(), database.rawValue, &cursor))
            guard let cursor else { throw LMDBError.badTransaction }
            return Cursor(pointer: cursor)
        }
    }

    /// A position in a database (`MDB_cursor`), for ordered iteration. Bytes it returns stay
    /// valid until its transaction ends. Close it (``close()``) before the transaction ends.
    public struct Cursor {
        /// One key/value pair the cursor is on.
        public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

        private let pointer: OpaquePointer

        init(pointer: OpaquePointer) { self.pointer = pointer }

        /// Closes the cursor (`mdb_cursor_close`). Call it exactly once.
        public func close() { mdb_cursor_close(pointer) }

        /// Moves to the first key ≥ `key` (`MDB_SET_RANGE`); `nil` past the end.
        public func seek(atLeast key: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? {
            var keyValue = MDB_val(key)
            return try move(&keyValue, MDB_SET_RANGE)
        }

        /// Moves to the first key ≥ `key` (`MDB_SET_RANGE`); `nil` past the end.
        public func seek(atLeast key: [UInt8]) throws(LMDBError) -> Entry? {
            var found: Entry?
            var failure: LMDBError?
            key.withUnsafeBytes { keyBytes in
                do throws(LMDBError) { found = try seek(atLeast: keyBytes) } catch { failure = error }
            }
            if let failure { throw failure }
            return found
        }

        /// Moves to the next pair (`MDB_NEXT`); `nil` past the end.
        public func next() throws(LMDBError) -> Entry? {
            var keyValue = MDB_val()
            return try move(&keyValue, MDB_NEXT)
        }

        /// Moves to the first pair (`MDB_FIRST`); `nil` if the database is empty.
        public func first() throws(LMDBError) -> Entry? {
            var keyValue = MDB_val()
            return try move(&keyValue, MDB_FIRST)
        }

        /// Moves to the last pair (`MDB_LAST`); `nil` if the database is empty.
        public func last() throws(LMDBError) -> Entry? {
            var keyValue = MDB_val()
            return try move(&keyValue, MDB_LAST)
        }

        private func move(
            _ keyValue: inout MDB_val,
            _ operation: MDB_cursor_op
        ) throws(LMDBError)
            -> Entry?
        {
            var data = MDB_val()
            let returnCode = mdb_cursor_get(pointer, &keyValue, &data, operation)
            if returnCode == MDB_NOTFOUND { return nil }
            try lmdbCheck(returnCode)
            return (UnsafeRawBufferPointer(keyValue), UnsafeRawBufferPointer(data))
        }
    }
}

extension MDB_val {
    /// An `MDB_val` over borrowed bytes; LMDB only reads through it.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.init(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes an `MDB_val` points at.
    init(_ value: MDB_val) {
        self.init(start: value.mv_data, count: value.mv_size)
    }
}
