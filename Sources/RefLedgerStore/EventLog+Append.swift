import Foundation
import Synchronization

extension EventLog {
    /// Appends a batch in one durable transaction and returns each event's place in the chain.
    ///
    /// Entry `i` must have seq `head.seq + 1 + i`; each body must be a canonical JSON object
    /// without `prev` and `hash`; ids must be new. The chain hashes are computed here
    /// (``Chain``). When this returns, the batch is committed and synced; when it throws,
    /// nothing of the batch is visible. An empty batch does nothing.
    ///
    /// When the map is full it grows (doubling, up to ``Options/maxMapSizeBytes``) and the
    /// batch is retried. Once the log holds ``Options/dictionaryTrainingRecords`` records, the
    /// first call after that also trains the compression dictionary (once).
    ///
    /// - Throws: ``StoreError``: ``StoreError/Code/storageFull`` (map at its limit, or disk
    ///   full or failing; the log stays readable and writable),
    ///   ``StoreError/Code/invalidArgument`` (seq out of order, malformed body, bad id),
    ///   ``StoreError/Code/duplicateID``, ``StoreError/Code/readOnly``, or an LMDB failure.
    public func append(_ batch: [Entry]) throws -> [Link] {
        guard let writer else { throw StoreError(.readOnly, "the log at \(directory) is open read-only") }
        if batch.isEmpty { return [] }
        let head = headCache.withLock { $0 }
        for (index, entry) in batch.enumerated() { try Self.check(entry, at: index, head: head) }
        let (values, links) = try encode(batch, after: head, writer: writer)
        let prevHash = links.last?.hash ?? head.hash
        let newHead = Head(seq: head.seq + UInt64(batch.count), hash: prevHash)
        // The id index is written in id order: neighbouring inserts land on the same pages.
        let idOrder = batch.count > 1 ? Self.idOrder(batch) : Array(batch.indices)
        try commitWrite { txn, handles in
            // Keys and values are handed to LMDB from where they are: nothing is copied.
            for index in batch.indices {
                var key = batch[index].seq.bigEndian
                do {
                    try withUnsafeBytes(of: &key) { key in
                        try values[index].withUnsafeBytes { value in
                            try txn.put(handles.log, key: key, value: value, flags: .append)
                        }
                    }
                } catch LMDBError.keyExists {
                    throw StoreError(
                        .corrupted,
                        "the log already holds seq \(batch[index].seq) although the head is \(head.seq)"
                    )
                }
            }
            for index in idOrder {
                var seq = batch[index].seq.bigEndian
                do {
                    try Self.withUTF8(batch[index].id) { id in
                        try withUnsafeBytes(of: &seq) { seq in
                            try txn.put(handles.ids, key: id, value: seq, flags: .noOverwrite)
                        }
                    }
                } catch LMDBError.keyExists {
                    throw StoreError(.duplicateID, "event id \"\(batch[index].id)\" is already in the log")
                }
            }
            try txn.put(handles.meta, key: MetaKey.head, value: Self.encodeHead(newHead))
        }
        headCache.withLock { $0 = newHead }
        trainDictionaryIfDue()
        return links
    }

    /// Runs `body` on the UTF-8 of `text`, in place when it is stored contiguously.
    private static func withUTF8<Result>(
        _ text: String,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows
        -> Result
    {
        var text = text
        return try text.withUTF8 { bytes in try body(UnsafeRawBufferPointer(bytes)) }
    }

    /// The indices of `batch` in the byte order of their ids (LMDB's key order).
    private static func idOrder(_ batch: [Entry]) -> [Int] {
        batch.indices.sorted { batch[$0].id.utf8.lexicographicallyPrecedes(batch[$1].id.utf8) }
    }

    /// Refuses an entry the log cannot take at position `index` of a batch after `head`.
    private static func check(_ entry: Entry, at index: Int, head: Head) throws(StoreError) {
        let expected = head.seq + 1 + UInt64(index)
        guard entry.seq == expected else {
            throw StoreError(
                .invalidArgument,
                "entry \(index) has seq \(entry.seq), expected \(expected) (head is \(head.seq))"
            )
        }
        let idBytes = entry.id.utf8.count
        guard idBytes > 0, idBytes <= RecordFormat.maxKeyBytes else {
            throw StoreError(
                .invalidArgument,
                "event id at seq \(entry.seq) is \(idBytes) bytes (1…\(RecordFormat.maxKeyBytes))"
            )
        }
        guard entry.body.count <= RecordFormat.maxBodyBytes else {
            throw StoreError(
                .invalidArgument,
                "body at seq \(entry.seq) is \(entry.body.count) bytes, over \(RecordFormat.maxBodyBytes)"
            )
        }
    }

    /// The `log` values and chain links of a batch after `head`.
    ///
    /// The chain is sequential, the rest is not: on a large batch, the workers first check
    /// each body, find where its `prev` goes and compress it, each with its own compressor;
    /// then one thread walks the chain, hashing only.
    private func encode(_ batch: [Entry], after head: Head, writer: WriterState) throws -> ([[UInt8]], [Link]) {
        let count = batch.count
        var values = [[UInt8]](repeating: [], count: count)
        var points = [JSONMembers.InsertionPoint](
            repeating: JSONMembers.InsertionPoint(offset: 0, needsLeadingComma: false, needsTrailingComma: false),
            count: count
        )
        let workers = writer.compressors.count
        if workers == 1 || count < Self.parallelEncodingThreshold {
            for index in 0..<count {
                (points[index], values[index]) = try Self.prepare(batch[index], writer: writer, compressor: 0)
            }
        } else {
            let slices = 4 * workers
            // The failure at the lowest index is the one reported, as a sequential walk would.
            let failures = Mutex<[(index: Int, error: any Error)]>([])
            // At most `workers` tasks run at once: each takes a free compressor for its slice.
            let idle = Mutex<[Int]>(Array(0..<workers))
            try values.withUnsafeMutableBufferPointer { valueSlots in
                points.withUnsafeMutableBufferPointer { pointSlots in
                    let output = UnsafeSlots(valueSlots)
                    let pointOutput = UnsafeSlots(pointSlots)
                    DispatchQueue.concurrentPerform(iterations: slices) { slice in
                        guard let taken = idle.withLock({ $0.popLast() }) else {
                            preconditionFailure("more encoding tasks at once than compressors")
                        }
                        defer { idle.withLock { $0.append(taken) } }
                        for index in stride(from: slice * count / slices, to: (slice + 1) * count / slices, by: 1) {
                            do {
                                (pointOutput.slots[index], output.slots[index]) = try Self.prepare(
                                    batch[index],
                                    writer: writer,
                                    compressor: taken
                                )
                            } catch {
                                failures.withLock { $0.append((index, error)) }
                                return
                            }
                        }
                    }
                }
                if let failure = failures.withLock({ $0.min { $0.index < $1.index } }) { throw failure.error }
            }
        }
        var links: [Link] = []
        links.reserveCapacity(count)
        var prevHash = head.hash
        for index in 0..<count {
            let digest = prevHash.withUnsafeBytes { prev in
                batch[index].body.withUnsafeBytes { body in
                    writer.hasher.hash(prevHash: prev, body: body, at: points[index])
                }
            }
            let hash = digest.bytes
            links.append(Link(seq: batch[index].seq, hash: hash, prevHash: prevHash))
            RecordFormat.setHash(hash, in: &values[index])
            prevHash = hash
        }
        return (values, links)
    }

    /// Checks an entry's body, finds where its `prev` goes, and compresses it into a `log`
    /// value (hash still zero) with compressor number `compressor`.
    private static func prepare(
        _ entry: Entry,
        writer: WriterState,
        compressor: Int
    ) throws(StoreError)
        -> (JSONMembers.InsertionPoint, [UInt8])
    {
        let point = try prevInsertionPoint(entry.body, seq: entry.seq)
        return (point, try writer.encode(body: entry.body, with: writer.compressors[compressor]))
    }

    /// Batches at least this long are encoded on several threads.
    static let parallelEncodingThreshold = 64

    /// Where `prev` goes in a body to append, or a ``StoreError`` if the body is not a JSON
    /// object without `prev` (checked whole).
    static func prevInsertionPoint(_ body: [UInt8], seq: UInt64) throws(StoreError) -> JSONMembers.InsertionPoint {
        let result = body.withUnsafeBytes { bytes in
            Result { () throws(JSONMembers.Malformed) in try ChainHasher.prevInsertionPoint(in: bytes) }
        }
        switch result {
        case .success(let point): return point
        case .failure(let malformed): throw malformedBody(malformed, seq: seq)
        }
    }

    private static func malformedBody(_ malformed: JSONMembers.Malformed, seq: UInt64) -> StoreError {
        StoreError(
            .invalidArgument,
            "body at seq \(seq) is not a canonical event object: \(malformed.reason) at byte \(malformed.offset)"
        )
    }

    static func encodeHead(_ head: Head) -> [UInt8] { RecordFormat.key(head.seq) + head.hash }

    static func decodeHead(_ bytes: [UInt8]?) throws(StoreError) -> Head {
        guard let bytes else { return .empty }
        guard bytes.count == 8 + Chain.hashByteCount,
            let seq = bytes.withUnsafeBytes({ RecordFormat.seq(fromKey: UnsafeRawBufferPointer(rebasing: $0[..<8])) })
        else {
            throw StoreError(.corrupted, "meta holds a damaged head (\(bytes.count) bytes)")
        }
        return Head(seq: seq, hash: Array(bytes[8...]))
    }

    /// Runs `body` in a write transaction and commits it; on `MDB_MAP_FULL` grows the map and
    /// runs it again. Out of room for good, it throws ``StoreError/Code/storageFull`` with the
    /// transaction aborted and the environment usable.
    func commitWrite(_ body: (LMDB.Transaction, Handles) throws -> Void) throws {
        while true {
            do {
                try gate.withShared { handles in
                    let txn = try handles.environment.beginTransaction(readOnly: false)
                    do {
                        try body(txn, handles)
                        try txn.commit()
                    } catch {
                        txn.abort()
                        throw error
                    }
                }
                return
            } catch let error as LMDBError where error == .mapFull {
                try growMap()
            } catch let error as LMDBError where error.isOutOfSpace || error == .panic {
                recoverAfterFailedCommit()
                throw StoreError.storageFull("cannot write to \(directory): \(error)")
            } catch let error as LMDBError {
                throw StoreError.lmdb(error, "writing \(directory)")
            }
        }
    }

    /// Doubles the map, up to ``Options/maxMapSizeBytes``.
    private func growMap() throws {
        let limit = Self.cappedMapSize(options.maxMapSizeBytes ?? Int.max, options: options)
        try gate.withExclusive { handles in
            let current: Int
            do throws(LMDBError) {
                current = try handles.environment.info().mapSizeBytes
            } catch {
                throw StoreError.lmdb(error, "reading the map size")
            }
            guard current < limit else {
                throw StoreError.storageFull(
                    "the log at \(directory) reached its map size limit of \(limit) bytes (maxMapSizeBytes)"
                )
            }
            let grown = current > limit / 2 ? limit : Self.cappedMapSize(current * 2, options: options)
            do throws(LMDBError) {
                try handles.environment.setMapSize(grown)
            } catch {
                throw StoreError.lmdb(error, "growing the map to \(grown) bytes")
            }
        }
    }

    /// After a failed commit: if LMDB marked the environment unusable (`MDB_PANIC`, after a
    /// failed meta page write), reopens it so reads and later writes work again.
    private func recoverAfterFailedCommit() {
        let healthy: Bool
        do {
            healthy = try gate.withShared { handles in
                do {
                    try handles.environment.beginTransaction(readOnly: true).abort()
                    return true
                } catch LMDBError.panic {
                    return false
                }
            }
        } catch {
            return
        }
        guard !healthy else { return }
        try? gate.withExclusive { handles in
            let mapSize = (try? handles.environment.info().mapSizeBytes) ?? options.initialMapSizeBytes
            handles.environment.close()
            var reopenOptions = options
            reopenOptions.initialMapSizeBytes = mapSize
            handles = try Self.openHandles(directory: directory, readOnly: false, options: reopenOptions)
        }
    }

    /// Reads the head, checks that `log` ends there, and sets up the compression dictionary.
    func loadWriterState() throws {
        guard let writer else { return }
        let (head, dictionaryID) = try withReadTransaction { txn, handles in
            let head = try Self.decodeHead(try txn.get(handles.meta, key: MetaKey.head))
            let cursor = try txn.openCursor(handles.log)
            defer { cursor.close() }
            let lastSeq = try cursor.last().map { entry in
                guard let seq = RecordFormat.seq(fromKey: entry.key) else {
                    throw StoreError(.corrupted, "the log holds a key of \(entry.key.count) bytes")
                }
                return seq
            }
            guard (lastSeq ?? 0) == head.seq else {
                throw StoreError(.corrupted, "the log ends at seq \(lastSeq ?? 0) but its head says \(head.seq)")
            }
            let dictionaryID = try txn.get(handles.meta, key: MetaKey.currentDictionary).flatMap { bytes in
                bytes.count == 4 ? bytes.withUnsafeBytes { RecordFormat.readUInt32($0, at: 0) } : nil
            }
            return (head, dictionaryID)
        }
        headCache.withLock { $0 = head }
        guard options.useDictionary, let dictionaryID else { return }
        let dictionary = try withReadTransaction { txn, handles in
            try dictionaries.dictionary(
                dictionaryID,
                compressionLevel: options.compressionLevel,
                txn: txn,
                meta: handles.meta
            )
        }
        guard let dictionary else {
            throw StoreError(.corrupted, "meta names dictionary \(dictionaryID) but does not hold it")
        }
        do {
            try writer.setDictionary(dictionary, id: dictionaryID)
        } catch {
            throw StoreError.zstd(error, "loading dictionary \(dictionaryID)")
        }
    }
}
