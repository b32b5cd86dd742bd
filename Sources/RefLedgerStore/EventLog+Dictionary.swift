import Foundation

extension EventLog {
    /// The id of the dictionary new records are compressed with, if any (writer only).
    public var currentDictionaryID: UInt32? { writer?.dictionaryID }

    /// Why the last dictionary training failed, if it did (writer only). Training failures do
    /// not fail appends; records are then compressed without a dictionary and training is
    /// tried again later.
    public var lastDictionaryError: String? { writer?.lastDictionaryError }

    /// Trains, stores and starts using the compression dictionary once the log holds
    /// ``Options/dictionaryTrainingRecords`` records. Runs on the writing thread after a
    /// commit; never throws (the commit already succeeded).
    func trainDictionaryIfDue() {
        guard let writer, options.useDictionary, writer.dictionaryID == nil else { return }
        let head = headCache.withLock { $0 }
        let sampleCount = UInt64(options.dictionaryTrainingRecords)
        guard head.seq >= sampleCount, head.seq >= writer.nextTrainingAttemptSeq else { return }
        do {
            try trainDictionary(sampleCount: sampleCount, writer: writer)
            writer.lastDictionaryError = nil
        } catch {
            // Try again once as many records again are in; until then compress without one.
            writer.nextTrainingAttemptSeq = head.seq + sampleCount
            writer.lastDictionaryError = "\(error)"
        }
    }

    private func trainDictionary(sampleCount: UInt64, writer: WriterState) throws {
        var samples: [[UInt8]] = []
        samples.reserveCapacity(Int(sampleCount))
        try scan(from: 1, through: sampleCount) { record in samples.append(record.body) }
        let bytes: [UInt8]
        let prepared: Zstd.PreparedDictionary
        do {
            bytes = try Zstd.trainDictionary(samples: samples, capacityBytes: options.dictionarySizeBytes)
            prepared = try Zstd.PreparedDictionary(bytes: bytes, compressionLevel: options.compressionLevel)
        } catch {
            throw StoreError.zstd(error, "training the compression dictionary")
        }
        var id: UInt32 = 0
        try commitWrite { txn, handles in
            id = try Self.nextDictionaryID(txn: txn, meta: handles.meta)
            try txn.put(handles.meta, key: MetaKey.dictionary(id), value: bytes, flags: .noOverwrite)
            var idBytes: [UInt8] = []
            RecordFormat.appendUInt32(id, to: &idBytes)
            try txn.put(handles.meta, key: MetaKey.currentDictionary, value: idBytes)
        }
        dictionaries.insert(prepared, id: id)
        do {
            try writer.setDictionary(prepared, id: id)
        } catch {
            throw StoreError.zstd(error, "using the new dictionary")
        }
    }

    /// One more than the largest dictionary id in `meta` (1 for the first).
    private static func nextDictionaryID(txn: LMDB.Transaction, meta: LMDB.Database) throws -> UInt32 {
        let cursor = try txn.openCursor(meta)
        defer { cursor.close() }
        var largest: UInt32 = 0
        var entry = try cursor.seek(atLeast: MetaKey.dictionaryPrefix)
        while let current = entry, current.key.starts(with: MetaKey.dictionaryPrefix) {
            let digits = String(decoding: current.key.dropFirst(MetaKey.dictionaryPrefix.count), as: UTF8.self)
            if let id = UInt32(digits) { largest = max(largest, id) }
            entry = try cursor.next()
        }
        guard largest < UInt32.max else { throw StoreError(.corrupted, "no dictionary id left") }
        return largest + 1
    }

    /// Sizes of the log on disk and of its records, for bytes-per-event measurements. Reads
    /// every record's size (not its body) in one pass.
    public func storageStats() throws -> StorageStats {
        try withReadTransaction { txn, handles in
            let logStat = try txn.stat(handles.log)
            let idsStat = try txn.stat(handles.ids)
            var valueBytes: UInt64 = 0
            var payloadBytes: UInt64 = 0
            var byCodec: [UInt64] = [0, 0, 0]
            let cursor = try txn.openCursor(handles.log)
            defer { cursor.close() }
            var entry = try cursor.first()
            while let current = entry {
                valueBytes += UInt64(current.value.count)
                if case .success(let parts) = RecordFormat.parse(current.value) {
                    payloadBytes += UInt64(parts.payload.count)
                    byCodec[Int(parts.codec.rawValue)] += 1
                }
                entry = try cursor.next()
            }
            let info = try handles.environment.info()
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/data.mdb")
            let fileBytes = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            let dictionaryID = try txn.get(handles.meta, key: MetaKey.currentDictionary).flatMap { bytes in
                bytes.count == 4 ? bytes.withUnsafeBytes { RecordFormat.readUInt32($0, at: 0) } : nil
            }
            return StorageStats(
                records: UInt64(logStat.entries),
                logDatabaseBytes: logStat.totalBytes,
                idsDatabaseBytes: idsStat.totalBytes,
                logValueBytes: valueBytes,
                logPayloadBytes: payloadBytes,
                recordsByCodec: byCodec,
                dataFileBytes: fileBytes,
                mapSizeBytes: info.mapSizeBytes,
                pageSizeBytes: info.pageSizeBytes,
                currentDictionaryID: dictionaryID
            )
        }
    }
}
