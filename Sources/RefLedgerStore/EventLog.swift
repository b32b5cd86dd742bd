import Foundation
import Synchronization

/// The durable, hash-chained event log of one data directory, in LMDB.
///
/// The directory holds the LMDB environment itself (`data.mdb`, `lock.mdb`, so `mdb_stat -a`
/// and `mdb_dump -s log` work on it) with the named databases `log` (seq → record), `ids`
/// (event id → seq), `meta` (format version, head, zstd dictionaries) and `snapshots` (seq →
/// ledger state, see ``writeSnapshot(of:fork:keepingOlderAtLeast:)``), and the writer's lock file `refledger.lock`.
///
/// One process writes a directory at a time (an exclusive `flock`); any number of read-only
/// opens may run beside it in other processes, and each read sees the latest commit. Within
/// one process a directory is opened once (LMDB's rule): share that log between threads.
/// Every append is one durable LMDB transaction: when ``append(_:)`` returns, the batch is on
/// disk; when it throws, nothing of it is visible.
///
/// Thread-safety: the writing methods (``append(_:)``) are called from one thread at a time;
/// reads may run on any threads, concurrently with each other and with the writer.
public final class EventLog: @unchecked Sendable {
    // @unchecked: the environment sits behind `gate`; `headCache` is a Mutex; `dictionaries` and
    // `decoders` lock themselves; `writer` is touched only by the single writing thread.

    /// The data directory.
    public let directory: String
    /// Whether the log was opened read-only.
    public let isReadOnly: Bool
    /// The options it was opened with.
    public let options: Options

    let gate: EnvironmentGate<Handles>
    let headCache: Mutex<Head>
    let dictionaries = DictionaryCache()
    let decoders = DecoderPool()
    let writer: WriterState?
    private let directoryLock: DirectoryLock?
    private let registration: OpenDirectories.Key

    /// The open environment and its databases.
    struct Handles {
        var environment: LMDB.Environment
        var log: LMDB.Database
        var ids: LMDB.Database
        var meta: LMDB.Database
        /// `nil` only in a read-only open of a directory written before snapshots existed.
        var snapshots: LMDB.Database?
    }

    /// Named databases the environment allows.
    static let maxDatabases: UInt32 = 16
    /// Records per read transaction in scans, so a long scan never blocks a map resize long.
    static let scanChunkRecords = 4096

    private init(
        directory: String,
        isReadOnly: Bool,
        options: Options,
        handles: Handles,
        head: Head,
        writer: WriterState?,
        directoryLock: DirectoryLock?,
        registration: OpenDirectories.Key
    ) {
        self.registration = registration
        self.directory = directory
        self.isReadOnly = isReadOnly
        self.options = options
        self.gate = EnvironmentGate(handles)
        self.headCache = Mutex(head)
        self.writer = writer
        self.directoryLock = directoryLock
    }

    deinit { close() }

    /// Opens the log in `directory`.
    ///
    /// A writer (`readOnly: false`) creates the directory and the databases if needed and takes
    /// the directory's writer lock first. A reader needs an initialized directory and takes no
    /// lock.
    ///
    /// - Throws: ``StoreError``: ``StoreError/Code/directoryLocked`` if another process writes
    ///   the directory, ``StoreError/Code/notFound`` if a reader finds no log there,
    ///   ``StoreError/Code/incompatibleFormat``, ``StoreError/Code/corrupted``, or an I/O,
    ///   LMDB or zstd failure.
    public static func open(directory: String, readOnly: Bool, options: Options = Options()) throws -> EventLog {
        precondition(options.initialMapSizeBytes > 0, "initialMapSizeBytes must be positive")
        precondition(options.dictionaryTrainingRecords > 0, "dictionaryTrainingRecords must be positive")
        if readOnly {
            guard FileManager.default.fileExists(atPath: directory + "/data.mdb") else {
                throw StoreError(.notFound, "no refledger data in \(directory) (data.mdb is missing)")
            }
            let registration = try OpenDirectories.register(directory)
            do {
                let handles = try openHandles(directory: directory, readOnly: true, options: options)
                return EventLog(
                    directory: directory,
                    isReadOnly: true,
                    options: options,
                    handles: handles,
                    head: .empty,
                    writer: nil,
                    directoryLock: nil,
                    registration: registration
                )
            } catch {
                OpenDirectories.unregister(registration)
                throw error
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.io, "cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        let registration = try OpenDirectories.register(directory)
        let log: EventLog
        do {
            let lock = try DirectoryLock(directory: directory)
            let handles = try openHandles(directory: directory, readOnly: false, options: options)
            let writer = try WriterState(compressionLevel: options.compressionLevel)
            log = EventLog(
                directory: directory,
                isReadOnly: false,
                options: options,
                handles: handles,
                head: .empty,
                writer: writer,
                directoryLock: lock,
                registration: registration
            )
        } catch {
            OpenDirectories.unregister(registration)
            throw error
        }
        // From here on, closing the log (also by releasing it) unregisters the directory.
        try log.loadWriterState()
        return log
    }

    /// Opens the environment and its databases; a writer also creates them and the format
    /// version on first use.
    static func openHandles(directory: String, readOnly: Bool, options: Options) throws -> Handles {
        var flags: LMDB.EnvironmentFlags = [.noThreadLocalStorage]
        if readOnly { flags.insert(.readOnly) }
        do {
            let environment = try LMDB.Environment(
                path: directory,
                flags: flags,
                maxDatabases: maxDatabases,
                maxReaders: options.maxReaders
            )
            if readOnly {
                return try openDatabases(environment: environment, create: false, directory: directory)
            }
            try environment.clearStaleReaders()
            let current = try environment.info().mapSizeBytes
            let wanted = cappedMapSize(options.initialMapSizeBytes, options: options)
            if current < wanted { try environment.setMapSize(wanted) }
            return try openDatabases(environment: environment, create: true, directory: directory)
        } catch let error as LMDBError {
            if error == .noSuchFile {
                throw StoreError(.notFound, "no refledger data in \(directory)")
            }
            throw StoreError.lmdb(error, "opening \(directory)")
        }
    }

    private static func openDatabases(
        environment: LMDB.Environment,
        create: Bool,
        directory: String
    ) throws
        -> Handles
    {
        let txn = try environment.beginTransaction(readOnly: !create)
        defer { txn.abort() }
        let handles = Handles(
            environment: environment,
            log: try openDatabase("log", txn: txn, create: create, directory: directory),
            ids: try openDatabase("ids", txn: txn, create: create, directory: directory),
            meta: try openDatabase("meta", txn: txn, create: create, directory: directory),
            snapshots: try openSnapshots(txn: txn, create: create)
        )
        var version: [UInt8] = []
        RecordFormat.appendUInt32(MetaKey.currentFormatVersion, to: &version)
        if let stored = try txn.get(handles.meta, key: MetaKey.formatVersion) {
            guard stored == version else {
                throw StoreError(
                    .incompatibleFormat,
                    "\(directory) has data format \(Chain.hex(stored)); this refledger reads format \(MetaKey.currentFormatVersion)"
                )
            }
        } else if create {
            try txn.put(handles.meta, key: MetaKey.formatVersion, value: version)
        } else {
            throw StoreError(.notFound, "\(directory) holds no refledger log (no format version)")
        }
        // Committing keeps the database handles open in the environment.
        try txn.commit()
        return handles
    }

    private static func openDatabase(
        _ name: String,
        txn: LMDB.Transaction,
        create: Bool,
        directory: String
    )
        throws(StoreError) -> LMDB.Database
    {
        do {
            return try txn.openDatabase(name, create: create)
        } catch {
            if error == .notFound {
                throw StoreError(.notFound, "\(directory) holds no refledger log (database \(name) is missing)")
            }
            throw StoreError.lmdb(error, "opening database \(name)")
        }
    }

    /// The `snapshots` database; `nil` for a reader of a directory that no writer of this
    /// version opened yet (it has no snapshots).
    private static func openSnapshots(txn: LMDB.Transaction, create: Bool) throws(StoreError) -> LMDB.Database? {
        do {
            return try txn.openDatabase("snapshots", create: create)
        } catch {
            if error == .notFound, !create { return nil }
            throw StoreError.lmdb(error, "opening database snapshots")
        }
    }

    /// `bytes`, bounded by ``Options/maxMapSizeBytes`` and rounded down to whole 4 KiB pages.
    static func cappedMapSize(_ bytes: Int, options: Options) -> Int {
        let capped = min(bytes, options.maxMapSizeBytes ?? Int.max)
        return max(capped / 4096 * 4096, 4096)
    }

    /// Closes the log: waits for running reads, closes the environment, releases the writer
    /// lock. Later calls throw ``StoreError/Code/closed``. Closing twice is harmless.
    public func close() {
        var closedNow = false
        gate.close { handles in
            handles.environment.close()
            closedNow = true
        }
        directoryLock?.release()
        if closedNow { OpenDirectories.unregister(registration) }
    }

    // MARK: - Transactions

    /// Runs `body` in a fresh read transaction (so it sees the latest commit), following a
    /// writer in another process that grew the map (`MDB_MAP_RESIZED`).
    func withReadTransaction<R>(_ body: (LMDB.Transaction, Handles) throws -> R) throws -> R {
        var attempt = 0
        while true {
            do {
                return try gate.withShared { handles in
                    let txn = try handles.environment.beginTransaction(readOnly: true)
                    defer { txn.abort() }
                    return try body(txn, handles)
                }
            } catch let error as LMDBError where error == .mapResized && attempt < 16 {
                attempt += 1
                do {
                    try gate.withExclusive { handles in try handles.environment.setMapSize(0) }
                } catch let error as LMDBError {
                    throw StoreError.lmdb(error, "following the writer's map size")
                }
            } catch let error as LMDBError {
                throw StoreError.lmdb(error, "reading \(directory)")
            }
        }
    }
}
