extension EventLog {
    /// The last committed event (seq 0 and zeros for an empty log).
    ///
    /// The writer answers from memory; a read-only log reads `meta` in a fresh transaction, so
    /// it sees what a writer in another process committed last.
    public func head() throws -> Head {
        if writer != nil { return headCache.withLock { $0 } }
        return try withReadTransaction { txn, handles in
            try Self.decodeHead(try txn.get(handles.meta, key: MetaKey.head))
        }
    }

    /// The seq of the event with `id`, or `nil` if the log has none.
    public func seq(forID id: String) throws -> UInt64? {
        let key = Array(id.utf8)
        guard !key.isEmpty, key.count <= RecordFormat.maxKeyBytes else { return nil }
        return try withReadTransaction { txn, handles in
            guard let value = try txn.get(handles.ids, key: key) else { return nil }
            guard let seq = value.withUnsafeBytes({ RecordFormat.seq(fromKey: $0) }) else {
                throw StoreError(.corrupted, "the id index holds a damaged seq for \"\(id)\"")
            }
            return seq
        }
    }

    /// The seq of each of `ids` the log holds (`nil` where it holds none), in the order of
    /// `ids`, found in one read transaction.
    ///
    /// The look-ups go in key order, so that neighbouring ids share pages, and read each id's
    /// bytes in place: no key or value is copied (the per-id copies were half of this call's
    /// time on the daemon's writer thread).
    public func seqs(forIDs ids: [String]) throws -> [UInt64?] {
        // Byte order for ASCII ids (every valid id); any order would be correct.
        let order = ids.indices.sorted { ids[$0] < ids[$1] }
        return try withReadTransaction { txn, handles in
            var found = [UInt64?](repeating: nil, count: ids.count)
            for index in order {
                var id = ids[index]
                // LMDB's bytes stay valid until the transaction ends.
                let value = try id.withUTF8 { key in
                    key.isEmpty || key.count > RecordFormat.maxKeyBytes
                        ? nil : try txn.get(handles.ids, key: UnsafeRawBufferPointer(key))
                }
                guard let value else { continue }
                guard let seq = RecordFormat.seq(fromKey: value) else {
                    throw StoreError(.corrupted, "the id index holds a damaged seq for \"\(id)\"")
                }
                found[index] = seq
            }
            return found
        }
    }

    /// The record at `seq`, or `nil` if the log has none there.
    ///
    /// - Throws: ``StoreError`` (``StoreError/Code/corrupted`` if the record or its
    ///   predecessor is damaged or missing).
    public func record(at seq: UInt64) throws -> StoredRecord? {
        guard seq > 0 else { return nil }
        return try decoders.withDecoder { decoder in
            try withReadTransaction { txn, handles -> StoredRecord? in
                guard let value = try txn.value(handles.log, at: RecordFormat.key(seq)) else { return nil }
                let prevHash = try storedHash(at: seq - 1, txn: txn, handles: handles)
                return try decodeRecord(
                    seq: seq,
                    value: value,
                    prevHash: prevHash,
                    decoder: decoder,
                    txn: txn,
                    handles: handles
                )
            }
        }
    }

    /// Calls `body` with every record from `from` through `through` (bounded by the head when
    /// the scan starts), in seq order.
    ///
    /// The records are read in chunks, each in its own read transaction; `body` runs outside
    /// any transaction, so it may read the log itself. The first record's ``StoredRecord/prevHash``
    /// comes from record `from - 1`.
    ///
    /// - Throws: ``StoreError`` (``StoreError/Code/corrupted`` for a missing or damaged record),
    ///   or what `body` throws.
    public func scan(from: UInt64, through: UInt64, _ body: (StoredRecord) throws -> Void) throws {
        let end = min(through, try head().seq)
        var next = max(from, 1)
        var prevHash: [UInt8]?
        while next <= end {
            let chunk = try records(from: next, through: end, after: prevHash)
            for record in chunk { try body(record) }
            next += UInt64(chunk.count)
            prevHash = chunk.last?.hash
        }
    }

    /// The records from `from` on, at most ``scanChunkRecords`` of them and none past
    /// `through` (which must not pass the head), read in one read transaction; empty when
    /// `from` is past `through`.
    ///
    /// - Parameter prevHash: the stored hash of record `from - 1`, when the caller has it;
    ///   otherwise it is read.
    /// - Throws: ``StoreError`` (``StoreError/Code/corrupted`` for a missing or damaged record).
    public func records(from: UInt64, through end: UInt64, after prevHash: [UInt8]? = nil) throws -> [StoredRecord] {
        let next = max(from, 1)
        guard next <= end else { return [] }
        return try decoders.withDecoder { decoder in
            try withReadTransaction { txn, handles in
                var records: [StoredRecord] = []
                records.reserveCapacity(min(Self.scanChunkRecords, Int(clamping: end - next + 1)))
                var prev = try prevHash ?? storedHash(at: next - 1, txn: txn, handles: handles)
                let cursor = try txn.openCursor(handles.log)
                defer { cursor.close() }
                var entry = try cursor.seek(atLeast: RecordFormat.key(next))
                var expected = next
                while records.count < Self.scanChunkRecords, expected <= end {
                    guard let current = entry, RecordFormat.seq(fromKey: current.key) == expected else {
                        throw StoreError(.corrupted, "the log has no record at seq \(expected)")
                    }
                    let record = try decodeRecord(
                        seq: expected,
                        value: current.value,
                        prevHash: prev,
                        decoder: decoder,
                        txn: txn,
                        handles: handles
                    )
                    records.append(record)
                    prev = record.hash
                    expected += 1
                    if expected <= end { entry = try cursor.next() }
                }
                return records
            }
        }
    }

    /// The stored hash of the record at `seq` (zeros for seq 0), without decoding its body.
    func storedHash(at seq: UInt64, txn: LMDB.Transaction, handles: Handles) throws -> [UInt8] {
        guard seq > 0 else { return Chain.genesisHash }
        guard let value = try txn.value(handles.log, at: RecordFormat.key(seq)) else {
            throw StoreError(.corrupted, "the log has no record at seq \(seq)")
        }
        switch RecordFormat.parse(value) {
        case .success(let parts): return Array(parts.hash)
        case .failure(let damage): throw StoreError(.corrupted, "record at seq \(seq): \(damage.reason)")
        }
    }

    /// Decodes one `log` value into a ``StoredRecord``.
    func decodeRecord(
        seq: UInt64,
        value: UnsafeRawBufferPointer,
        prevHash: [UInt8],
        decoder: RecordDecoder,
        txn: LMDB.Transaction,
        handles: Handles
    ) throws -> StoredRecord {
        do {
            let parts = try RecordFormat.parse(value).get()
            let body = try decoder.body(
                of: parts,
                dictionaries: dictionaries,
                compressionLevel: options.compressionLevel,
                txn: txn,
                meta: handles.meta
            )
            return StoredRecord(seq: seq, hash: Array(parts.hash), prevHash: prevHash, body: Array(body))
        } catch let damage as RecordDamage {
            throw StoreError(.corrupted, "record at seq \(seq): \(damage.reason)")
        }
    }
}
