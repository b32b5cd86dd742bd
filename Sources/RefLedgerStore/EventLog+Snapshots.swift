public import RefLedgerCore

/// The layout of a `snapshots` value: format version (1 byte), the head hash at the
/// snapshot's seq (32 bytes), then one zstd frame (with its content checksum) of the ledger
/// state (`Ledger.snapshotBytes()`). Keys are the seq as 8 bytes big-endian, like `log`.
enum SnapshotFormat {
    /// The value format this code writes and reads.
    static let version: UInt8 = 1
    /// Bytes before the zstd frame.
    static let prefixByteCount = 1 + Chain.hashByteCount
    /// The snapshots kept once one at the newest of `seqs` (ascending) is written: that one
    /// and the one before it, and the oldest too while the one before is less than `spacing`
    /// events above it. With `spacing` 0, the newest two. A positive spacing keeps snapshots
    /// taken close together (an idle daemon's after short bursts) from pushing out the one
    /// further back that a restore below them starts from; that one moves up to the one before
    /// the newest once it is `spacing` above it, so with snapshots at most `spacing` apart the
    /// oldest kept stays within about twice the spacing of the newest.
    static func kept(_ seqs: [UInt64], spacing: UInt64) -> [UInt64] {
        guard let newest = seqs.last else { return [] }
        let older = seqs.dropLast()
        guard let previous = older.last, let oldest = older.first else { return [newest] }
        guard oldest < previous, previous - oldest < spacing else { return [previous, newest] }
        return [oldest, previous, newest]
    }

    /// The zstd level of snapshots: fast, since the writer's state is compressed in the background.
    static let compressionLevel: Int32 = 1
    /// The most a frame may expand, as a bound on what a damaged content size can make a reader
    /// allocate (ledger state compresses about 3–6×).
    static let maxExpansion = 64
}

extension EventLog {
    /// A ledger snapshot read back from the `snapshots` database, checked against the log.
    public struct Snapshot: Sendable {
        /// The seq of the last event the state includes.
        public var seq: UInt64
        /// The state: `Ledger.snapshotBytes()` of the ledger at ``seq``.
        public var state: [UInt8]
        /// The size of the stored value (header and compressed state), in bytes.
        public var storedBytes: Int
    }

    /// What writing one snapshot took.
    public struct SnapshotWrite: Sendable, Hashable {
        /// The seq of the snapshot.
        public var seq: UInt64
        /// The state's size before compression, in bytes.
        public var stateBytes: Int
        /// The stored value's size, in bytes.
        public var storedBytes: Int
        /// Time to serialize the ledger.
        public var encodeSeconds: Double
        /// Time to compress the state.
        public var compressSeconds: Double
        /// Time of the write transaction, commit (fsync) included.
        public var writeSeconds: Double
    }

    /// A snapshot serialized and compressed, not yet stored (``storeSnapshot(_:)``).
    public struct PreparedSnapshot: Sendable {
        /// The seq of the last event the state includes.
        public let seq: UInt64
        /// The stored value, its head hash still zero.
        fileprivate let value: [UInt8]
        fileprivate let stateBytes: Int
        fileprivate let encodeSeconds: Double
        fileprivate let compressSeconds: Double
    }

    /// Stores a snapshot of `ledger` at its head seq, in a write transaction of its own, and
    /// deletes all others but the one before it and, while that one is less than `spacing`
    /// events above the oldest, the oldest (with the default 0, the newest two are kept).
    ///
    /// The ledger must be committed state: its head must be a seq the log holds, and the head
    /// hash stored with the snapshot is the log's hash at that seq. Encoding and compression
    /// run on the calling thread outside any transaction (the encoding of each program's two
    /// large sections through `fork`). May run on any thread, beside
    /// ``append(_:)`` on another: LMDB runs write transactions one at a time.
    ///
    /// - Throws: ``StoreError``: ``StoreError/Code/invalidArgument`` if the log does not hold
    ///   the ledger's head (or it is 0), ``StoreError/Code/readOnly``,
    ///   ``StoreError/Code/storageFull``, or an LMDB or zstd failure.
    @discardableResult
    public func writeSnapshot(
        of ledger: Ledger,
        fork: Ledger.Fork = Ledger.oneAfterTheOther,
        keepingOlderAtLeast spacing: UInt64 = 0
    ) throws -> SnapshotWrite {
        try storeSnapshot(prepareSnapshot(of: ledger, fork: fork), keepingOlderAtLeast: spacing)
    }

    /// Serializes and compresses a snapshot of `ledger` (the first half of
    /// ``writeSnapshot(of:fork:keepingOlderAtLeast:)``), without touching the log: the ledger may include facts
    /// whose batch is still being written, as long as it is stored only once they are.
    public func prepareSnapshot(
        of ledger: Ledger,
        fork: Ledger.Fork = Ledger.oneAfterTheOther
    ) throws
        -> PreparedSnapshot
    {
        guard writer != nil else { throw StoreError(.readOnly, "the log at \(directory) is open read-only") }
        let seq = ledger.head
        guard seq > 0 else { throw StoreError(.invalidArgument, "an empty ledger needs no snapshot") }
        let clock = ContinuousClock()
        let start = clock.now
        let state = ledger.snapshotBytes(fork: fork)
        let encoded = clock.now
        var value: [UInt8] = [SnapshotFormat.version] + [UInt8](repeating: 0, count: Chain.hashByteCount)
        do {
            value += try Zstd.Compressor(level: SnapshotFormat.compressionLevel, checksum: true).compress(state)
        } catch {
            throw StoreError.zstd(error, "compressing the snapshot at seq \(seq)")
        }
        return PreparedSnapshot(
            seq: seq,
            value: value,
            stateBytes: state.count,
            encodeSeconds: start.duration(to: encoded) / .seconds(1),
            compressSeconds: encoded.duration(to: clock.now) / .seconds(1)
        )
    }

    /// Stores a prepared snapshot (the second half of
    /// ``writeSnapshot(of:fork:keepingOlderAtLeast:)``, which says which others are kept), with
    /// the log's hash at its seq; throws ``StoreError/Code/invalidArgument`` if the log does not
    /// hold that seq.
    @discardableResult
    public func storeSnapshot(
        _ prepared: PreparedSnapshot,
        keepingOlderAtLeast spacing: UInt64 = 0
    ) throws
        -> SnapshotWrite
    {
        guard writer != nil else { throw StoreError(.readOnly, "the log at \(directory) is open read-only") }
        let seq = prepared.seq
        var value = prepared.value
        let clock = ContinuousClock()
        let start = clock.now
        try commitWrite { txn, handles in
            guard let snapshots = handles.snapshots else { throw StoreError(.readOnly, "no snapshots database") }
            guard seq <= (try Self.decodeHead(try txn.get(handles.meta, key: MetaKey.head))).seq else {
                throw StoreError(
                    .invalidArgument,
                    "the log does not hold seq \(seq) yet; snapshots are of committed state"
                )
            }
            let hash = try storedHash(at: seq, txn: txn, handles: handles)
            value.replaceSubrange(1..<SnapshotFormat.prefixByteCount, with: hash)
            try txn.put(snapshots, key: RecordFormat.key(seq), value: value)
            let seqs = try Self.snapshotSeqs(txn: txn, snapshots: snapshots)
            let kept = SnapshotFormat.kept(seqs, spacing: spacing)
            for old in seqs where !kept.contains(old) { try txn.delete(snapshots, key: RecordFormat.key(old)) }
        }
        return SnapshotWrite(
            seq: seq,
            stateBytes: prepared.stateBytes,
            storedBytes: value.count,
            encodeSeconds: prepared.encodeSeconds,
            compressSeconds: prepared.compressSeconds,
            writeSeconds: start.duration(to: clock.now) / .seconds(1)
        )
    }

    /// The seqs of the stored snapshots, ascending (whether or not they are intact).
    public func snapshotSeqs() throws -> [UInt64] {
        try withReadTransaction { txn, handles in
            guard let snapshots = handles.snapshots else { return [] }
            return try Self.snapshotSeqs(txn: txn, snapshots: snapshots)
        }
    }

    private static func snapshotSeqs(txn: LMDB.Transaction, snapshots: LMDB.Database) throws -> [UInt64] {
        let cursor = try txn.openCursor(snapshots)
        defer { cursor.close() }
        var seqs: [UInt64] = []
        var entry = try cursor.first()
        while let current = entry {
            guard let seq = RecordFormat.seq(fromKey: current.key) else {
                throw StoreError(.corrupted, "the snapshots database holds a key of \(current.key.count) bytes")
            }
            seqs.append(seq)
            entry = try cursor.next()
        }
        return seqs
    }

    /// The snapshot stored at `seq`, or `nil` if there is none.
    ///
    /// - Throws: ``StoreError/Code/corrupted`` when it is damaged: an unknown format, a head
    ///   hash other than the log's at that seq (or a seq the log does not hold), or a zstd
    ///   frame that does not decompress or fails its checksum. Other ``StoreError``s as reads do.
    public func snapshot(at seq: UInt64) throws -> Snapshot? {
        // Decompressed straight from the map, inside the read transaction (tens of ms).
        try withReadTransaction { txn, handles in
            guard let snapshots = handles.snapshots,
                let value = try txn.value(snapshots, at: RecordFormat.key(seq))
            else { return nil }
            guard value.count > SnapshotFormat.prefixByteCount, value[0] == SnapshotFormat.version else {
                throw StoreError(.corrupted, "snapshot at seq \(seq) has an unknown format or is truncated")
            }
            guard seq <= (try Self.decodeHead(try txn.get(handles.meta, key: MetaKey.head))).seq,
                try storedHash(at: seq, txn: txn, handles: handles).elementsEqual(
                    value[1..<SnapshotFormat.prefixByteCount]
                )
            else {
                throw StoreError(.corrupted, "snapshot at seq \(seq) does not match the log's hash at that seq")
            }
            let frame = UnsafeRawBufferPointer(rebasing: value[SnapshotFormat.prefixByteCount...])
            do {
                let state = try Zstd.Decompressor().decompressSized(
                    frame,
                    maxOutputBytes: max(64 << 20, frame.count * SnapshotFormat.maxExpansion)
                )
                return Snapshot(seq: seq, state: state, storedBytes: value.count)
            } catch {
                throw StoreError(.corrupted, "snapshot at seq \(seq) does not decompress: \(error)")
            }
        }
    }

    /// The newest intact snapshot at or before `seq`, or `nil` if there is none. Each newer
    /// one that is damaged (see ``snapshot(at:)``) is passed to `onDamaged` and skipped.
    public func latestSnapshot(
        atOrBefore seq: UInt64,
        onDamaged: (UInt64, StoreError) -> Void
    ) throws -> Snapshot? {
        for candidate in try snapshotSeqs().reversed() where candidate <= seq {
            do {
                if let snapshot = try snapshot(at: candidate) { return snapshot }
            } catch let error as StoreError where error.code == .corrupted {
                onDamaged(candidate, error)
            }
        }
        return nil
    }
}
