import Foundation

extension EventLog {
    /// The dictionaries of `meta`, prepared once and shared by every reader and the writer.
    final class DictionaryCache: @unchecked Sendable {
        // @unchecked: `prepared` is read and written only with `lock` held.
        private let lock = NSLock()
        private var prepared: [UInt32: Zstd.PreparedDictionary] = [:]

        /// Dictionary `id`, loaded from `meta` through `txn` on first use; `nil` if `meta` has
        /// no such dictionary.
        func dictionary(
            _ id: UInt32,
            compressionLevel: Int32,
            txn: LMDB.Transaction,
            meta: LMDB.Database
        )
            throws -> Zstd.PreparedDictionary?
        {
            if let known = lock.withLock({ prepared[id] }) { return known }
            guard let bytes = try txn.get(meta, key: MetaKey.dictionary(id)) else { return nil }
            let dictionary: Zstd.PreparedDictionary
            do {
                dictionary = try Zstd.PreparedDictionary(bytes: bytes, compressionLevel: compressionLevel)
            } catch {
                throw RecordDamage("dictionary \(id) in meta is unusable: \(error.message)")
            }
            insert(dictionary, id: id)
            return dictionary
        }

        func insert(_ dictionary: Zstd.PreparedDictionary, id: UInt32) {
            lock.withLock { prepared[id] = dictionary }
        }
    }

    /// Decodes record payloads with one reusable decompression context. Use on one thread at a
    /// time; ``DecoderPool`` hands each to one user.
    final class RecordDecoder: @unchecked Sendable {
        // @unchecked: owned by one thread at a time (taken from and returned to the pool).
        private let decompressor: Zstd.Decompressor
        /// The dictionary used last, kept to skip the shared cache's lock on the next record.
        private var lastDictionary: (id: UInt32, dictionary: Zstd.PreparedDictionary)?

        init() throws(StoreError) {
            do { decompressor = try Zstd.Decompressor() } catch { throw StoreError.zstd(error, "creating a decoder") }
        }

        /// The body of a record; the bytes stay valid until the next call on this decoder (or,
        /// for a raw record, until `txn` ends).
        ///
        /// - Throws: ``RecordDamage`` if the payload does not decode; LMDB errors from loading a
        ///   dictionary.
        func body(
            of parts: RecordFormat.Parts,
            dictionaries: DictionaryCache,
            compressionLevel: Int32,
            txn: LMDB.Transaction,
            meta: LMDB.Database
        ) throws -> UnsafeRawBufferPointer {
            var dictionary: Zstd.PreparedDictionary?
            switch parts.codec {
            case .raw:
                return parts.payload
            case .zstd:
                dictionary = nil
            case .zstdDictionary:
                if let last = lastDictionary, last.id == parts.dictionaryID {
                    dictionary = last.dictionary
                } else {
                    guard
                        let loaded = try dictionaries.dictionary(
                            parts.dictionaryID,
                            compressionLevel: compressionLevel,
                            txn: txn,
                            meta: meta
                        )
                    else {
                        throw RecordDamage(
                            "the record needs dictionary \(parts.dictionaryID), which meta does not hold"
                        )
                    }
                    lastDictionary = (parts.dictionaryID, loaded)
                    dictionary = loaded
                }
            }
            do {
                return try decompressor.decompressFrame(
                    parts.payload,
                    dictionary: dictionary,
                    maxOutputBytes: RecordFormat.maxBodyBytes
                )
            } catch {
                throw RecordDamage("payload does not decompress: \(error.message)")
            }
        }
    }

    /// Idle ``RecordDecoder``s, so single reads reuse decompression contexts.
    final class DecoderPool: @unchecked Sendable {
        // @unchecked: `idle` is read and written only with `lock` held.
        private let lock = NSLock()
        private var idle: [RecordDecoder] = []
        private static let maxIdle = 16

        /// Runs `body` with a decoder no other thread uses meanwhile.
        func withDecoder<R>(_ body: (RecordDecoder) throws -> R) throws -> R {
            let decoder = try lock.withLock { idle.popLast() } ?? RecordDecoder()
            defer { lock.withLock { if idle.count < Self.maxIdle { idle.append(decoder) } } }
            return try body(decoder)
        }
    }

    /// What only the writing thread touches: the compressors, the hasher, the dictionary state.
    final class WriterState: @unchecked Sendable {
        // @unchecked: used only by the single writing thread (EventLog's contract); during an
        // append, each compressor is lent to one worker of that append at a time.
        /// One compressor per worker an append may use (compression runs in parallel).
        let compressors: [Zstd.Compressor]
        let hasher = ChainHasher()
        /// The dictionary `compressors` use, if any.
        var dictionaryID: UInt32?
        /// Do not try training before the head reaches this seq (after a failed attempt).
        var nextTrainingAttemptSeq: UInt64 = 0
        /// Why the last dictionary training failed, if it did.
        var lastDictionaryError: String?

        init(compressionLevel: Int32) throws(StoreError) {
            let workers = min(4, Parallel.workers)
            do {
                compressors = try (0..<workers).map { _ throws(ZstdError) in
                    try Zstd.Compressor(level: compressionLevel)
                }
            } catch {
                throw StoreError.zstd(error, "creating the compressor")
            }
        }

        /// Compresses later records with `dictionary`.
        func setDictionary(_ dictionary: Zstd.PreparedDictionary, id: UInt32) throws(ZstdError) {
            for compressor in compressors { try compressor.setDictionary(dictionary) }
            dictionaryID = id
        }

        /// A `log` value for `body` with a zeroed hash (``RecordFormat/setHash(_:in:)`` fills
        /// it in): compressed (with the current dictionary if any), or raw when compression
        /// does not make it smaller.
        func encode(body: [UInt8], with compressor: Zstd.Compressor) throws(StoreError) -> [UInt8] {
            var value: [UInt8] = []
            value.reserveCapacity(RecordFormat.prefixByteCount + body.count)
            let codec: RecordFormat.Codec = dictionaryID == nil ? .zstd : .zstdDictionary
            RecordFormat.appendPrefix(
                codec: codec,
                dictionaryID: dictionaryID ?? 0,
                hash: Chain.genesisHash,
                to: &value
            )
            var failure: ZstdError?
            body.withUnsafeBytes { bytes in
                do throws(ZstdError) { try compressor.compress(bytes, appendingTo: &value) } catch { failure = error }
            }
            if let failure { throw StoreError.zstd(failure, "compressing a record") }
            if value.count - RecordFormat.prefixByteCount >= body.count {
                value.removeAll(keepingCapacity: true)
                RecordFormat.appendPrefix(codec: .raw, dictionaryID: 0, hash: Chain.genesisHash, to: &value)
                value.append(contentsOf: body)
            }
            return value
        }
    }
}
