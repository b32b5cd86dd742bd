/// The byte layout of the `log`, `ids` and `meta` databases.
///
/// A `log` value is a 6-byte header — format version (1), codec, dictionary id (UInt32
/// big-endian, 0 for none) — then the event's raw 32-byte hash, then the payload: the event's
/// canonical JSON without `prev` and `hash`, encoded per the codec. Keys of `log` are the seq
/// as 8 bytes big-endian, so LMDB's byte order is seq order.
enum RecordFormat {
    /// The record format this code writes and reads.
    static let version: UInt8 = 1
    /// Bytes before the hash.
    static let headerByteCount = 6
    /// Bytes before the payload.
    static let prefixByteCount = headerByteCount + Chain.hashByteCount
    /// The largest body stored, in bytes (a record far beyond any event the daemon accepts).
    static let maxBodyBytes = 4 << 20
    /// LMDB's largest key, in bytes (also the longest event id).
    static let maxKeyBytes = 511

    /// How a record's payload is encoded.
    enum Codec: UInt8 {
        /// The body's bytes as they are.
        case raw = 0
        /// One zstd frame, no dictionary.
        case zstd = 1
        /// One zstd frame made with the dictionary named in the header.
        case zstdDictionary = 2
    }

    /// A `log` value split into its parts (borrowing the value's bytes).
    struct Parts {
        var codec: Codec
        var dictionaryID: UInt32
        var hash: UnsafeRawBufferPointer
        var payload: UnsafeRawBufferPointer
    }

    /// Splits a `log` value; the reason if its header is damaged.
    static func parse(_ value: UnsafeRawBufferPointer) -> Result<Parts, RecordDamage> {
        guard value.count >= prefixByteCount else {
            return .failure(RecordDamage("record is \(value.count) bytes, shorter than its header"))
        }
        guard value[0] == version else {
            return .failure(RecordDamage("unknown record format version \(value[0])"))
        }
        guard let codec = Codec(rawValue: value[1]) else {
            return .failure(RecordDamage("unknown codec \(value[1])"))
        }
        let dictionaryID = readUInt32(value, at: 2)
        guard (codec == .zstdDictionary) == (dictionaryID != 0) else {
            return .failure(RecordDamage("codec \(codec.rawValue) with dictionary id \(dictionaryID)"))
        }
        return .success(
            Parts(
                codec: codec,
                dictionaryID: dictionaryID,
                hash: UnsafeRawBufferPointer(rebasing: value[headerByteCount..<prefixByteCount]),
                payload: UnsafeRawBufferPointer(rebasing: value[prefixByteCount...])
            )
        )
    }

    /// Writes `hash` into the prefix of the record `value`.
    static func setHash(_ hash: [UInt8], in value: inout [UInt8]) {
        precondition(hash.count == Chain.hashByteCount && value.count >= prefixByteCount, "bad record prefix")
        value.replaceSubrange(headerByteCount..<prefixByteCount, with: hash)
    }

    /// Appends a record's header and hash to `output`.
    static func appendPrefix(codec: Codec, dictionaryID: UInt32, hash: [UInt8], to output: inout [UInt8]) {
        precondition(hash.count == Chain.hashByteCount, "hash must be 32 bytes")
        output.append(version)
        output.append(codec.rawValue)
        appendUInt32(dictionaryID, to: &output)
        output.append(contentsOf: hash)
    }

    /// The `log` (and `ids` value) encoding of a seq: 8 bytes big-endian.
    static func key(_ seq: UInt64) -> [UInt8] {
        withUnsafeBytes(of: seq.bigEndian) { Array($0) }
    }

    /// The seq a `log` key encodes, or `nil` if it is not 8 bytes.
    static func seq(fromKey key: UnsafeRawBufferPointer) -> UInt64? {
        guard key.count == 8 else { return nil }
        var seq: UInt64 = 0
        for byte in key { seq = seq << 8 | UInt64(byte) }
        return seq
    }

    static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        (UInt32(bytes[offset]) << 24) | (UInt32(bytes[offset + 1]) << 16) | (UInt32(bytes[offset + 2]) << 8)
            | UInt32(bytes[offset + 3])
    }

    static func appendUInt32(_ value: UInt32, to output: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { output.append(contentsOf: $0) }
    }
}

/// Why a stored record cannot be read.
struct RecordDamage: Error, Equatable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Keys and values of the `meta` database.
enum MetaKey {
    /// The format version of the data directory: UInt32 big-endian.
    static let formatVersion = Array("format_version".utf8)
    /// The head: seq (8 bytes big-endian) then hash (32 bytes).
    static let head = Array("head".utf8)
    /// The id of the dictionary new records are compressed with: UInt32 big-endian.
    static let currentDictionary = Array("dictionary_current".utf8)
    /// The prefix of dictionary keys: `dictionary/<decimal id>` holds the dictionary's bytes.
    static let dictionaryPrefix = Array("dictionary/".utf8)

    /// The key of dictionary `id`.
    static func dictionary(_ id: UInt32) -> [UInt8] { dictionaryPrefix + Array(String(id).utf8) }

    /// The data directory format this code writes and reads.
    static let currentFormatVersion: UInt32 = 1
}
