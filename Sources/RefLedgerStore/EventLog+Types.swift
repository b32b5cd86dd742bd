extension EventLog {
    /// How a log is opened.
    public struct Options: Sendable, Hashable {
        /// The map size a writer starts with; it doubles on `MDB_MAP_FULL`. A data file that
        /// already holds more keeps its own size.
        public var initialMapSizeBytes: Int = 64 << 20
        /// The largest the map may grow to; `nil` is no limit but the disk. Reaching it makes
        /// appends throw ``StoreError/Code/storageFull``.
        public var maxMapSizeBytes: Int?
        /// Whether a writer trains a zstd dictionary and compresses with it.
        public var useDictionary: Bool = true
        /// How many records the log must hold before the dictionary is trained (on the first
        /// this many bodies).
        public var dictionaryTrainingRecords: Int = 4096
        /// The largest dictionary to train, in bytes.
        public var dictionarySizeBytes: Int = 16 << 10
        /// The zstd level of record compression. Level 1: on records of a few hundred bytes
        /// with the dictionary it compresses within 2% of level 3 (143 vs 146 bytes from 360)
        /// in about 70% of the time (1.9 vs 2.7 µs a record, measured with libzstd 1.5.4).
        public var compressionLevel: Int32 = 1
        /// LMDB reader slots (concurrent read transactions over all processes).
        public var maxReaders: UInt32 = 512

        /// The defaults.
        public init() {}

        /// Options with the given values; anything not named keeps its default.
        public init(
            initialMapSizeBytes: Int = 64 << 20,
            maxMapSizeBytes: Int? = nil,
            useDictionary: Bool = true,
            dictionaryTrainingRecords: Int = 4096,
            dictionarySizeBytes: Int = 16 << 10,
            compressionLevel: Int32 = 1
        ) {
            self.initialMapSizeBytes = initialMapSizeBytes
            self.maxMapSizeBytes = maxMapSizeBytes
            self.useDictionary = useDictionary
            self.dictionaryTrainingRecords = dictionaryTrainingRecords
            self.dictionarySizeBytes = dictionarySizeBytes
            self.compressionLevel = compressionLevel
        }
    }

    /// One event to append: its id, its seq, and its canonical JSON body without `prev`
    /// and `hash` (an object with at least `id`, `program` and `seq`).
    public struct Entry: Sendable, Hashable {
        /// The event id (1…511 UTF-8 bytes), unique over the log.
        public var id: String
        /// The event's seq: the head's seq + 1 for the first entry of a batch, then + 1 each.
        public var seq: UInt64
        /// Canonical JSON (RFC 8785) of the event without `prev` and `hash`.
        public var body: [UInt8]

        /// Makes an entry.
        public init(id: String, seq: UInt64, body: [UInt8]) {
            self.id = id
            self.seq = seq
            self.body = body
        }
    }

    /// Where an appended event sits in the chain.
    public struct Link: Sendable, Hashable {
        /// The event's seq.
        public var seq: UInt64
        /// The event's 32-byte hash.
        public var hash: [UInt8]
        /// The previous event's 32-byte hash (zeros for seq 1).
        public var prevHash: [UInt8]

        /// Makes a link.
        public init(seq: UInt64, hash: [UInt8], prevHash: [UInt8]) {
            self.seq = seq
            self.hash = hash
            self.prevHash = prevHash
        }

        /// ``hash`` as 64 lower-case hex digits.
        public var hashHex: String { Chain.hex(hash) }
        /// ``prevHash`` as 64 lower-case hex digits.
        public var prevHex: String { Chain.hex(prevHash) }
    }

    /// The last committed event: seq 0 and the genesis hash for an empty log.
    public struct Head: Sendable, Hashable {
        /// The head's seq (0 when empty).
        public var seq: UInt64
        /// The head's 32-byte hash (zeros when empty).
        public var hash: [UInt8]

        /// Makes a head.
        public init(seq: UInt64, hash: [UInt8]) {
            self.seq = seq
            self.hash = hash
        }

        /// ``hash`` as 64 lower-case hex digits.
        public var hashHex: String { Chain.hex(hash) }

        /// The head of an empty log.
        public static let empty = Head(seq: 0, hash: Chain.genesisHash)
    }

    /// A verified-readable record: its position, its chain hashes and its body.
    public struct StoredRecord: Sendable, Hashable {
        /// The record's seq.
        public var seq: UInt64
        /// The record's stored 32-byte hash.
        public var hash: [UInt8]
        /// The previous record's stored hash (zeros for seq 1).
        public var prevHash: [UInt8]
        /// Canonical JSON of the event without `prev` and `hash`, decompressed.
        public var body: [UInt8]

        /// Makes a record.
        public init(seq: UInt64, hash: [UInt8], prevHash: [UInt8], body: [UInt8]) {
            self.seq = seq
            self.hash = hash
            self.prevHash = prevHash
            self.body = body
        }

        /// ``hash`` as 64 lower-case hex digits.
        public var hashHex: String { Chain.hex(hash) }
        /// ``prevHash`` as 64 lower-case hex digits.
        public var prevHex: String { Chain.hex(prevHash) }

        /// The full stored event: canonical JSON with `prev` and `hash` inserted.
        ///
        /// - Throws: ``StoreError`` if the body is not a JSON object (damaged data).
        public func fullJSON() throws(StoreError) -> [UInt8] {
            do {
                return try Chain.fullEvent(bodyWithoutPrevAndHash: body, prevHash: prevHash, hash: hash)
            } catch {
                throw StoreError(.corrupted, "record at seq \(seq): \(error.message)")
            }
        }
    }

    /// What ``EventLog/verifyChain(progress:)`` found.
    public struct ChainReport: Sendable, Hashable {
        /// The head (from `meta`) the check ran up to.
        public var head: Head
        /// Records verified good, in order from seq 1 (all of them when the chain holds).
        public var checked: UInt64
        /// The first seq at which the log is wrong, or `nil` if it is right.
        public var firstBadSeq: UInt64?
        /// What is wrong at ``firstBadSeq``, for a person.
        public var reason: String?

        /// Whether the whole chain holds.
        public var isValid: Bool { firstBadSeq == nil }
    }

    /// Sizes of the log on disk, for measuring bytes per event.
    public struct StorageStats: Sendable, Hashable {
        /// Records in `log`.
        public var records: UInt64
        /// Bytes of every page of the `log` database (`mdb_stat`: pages × page size).
        public var logDatabaseBytes: Int
        /// Bytes of every page of the `ids` database.
        public var idsDatabaseBytes: Int
        /// Sum of the sizes of all `log` values (headers, hashes and payloads).
        public var logValueBytes: UInt64
        /// Sum of the sizes of all `log` payloads (after compression).
        public var logPayloadBytes: UInt64
        /// Records per codec: raw, zstd, zstd with a dictionary.
        public var recordsByCodec: [UInt64]
        /// Size of the data file `data.mdb`.
        public var dataFileBytes: Int
        /// The environment's map size.
        public var mapSizeBytes: Int
        /// LMDB's page size.
        public var pageSizeBytes: Int
        /// The dictionary new records are compressed with, if any.
        public var currentDictionaryID: UInt32?
    }
}
