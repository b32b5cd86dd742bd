import Crypto

/// The hash chain of SPEC §7.
///
/// Each stored event's hash is SHA-256 of: the previous event's hash as 64 lower-case hex
/// digits (64 zeros before seq 1), `"\n"`, then the event's canonical JSON without its `hash`
/// member — that is, the body with `"prev":"<previous hash hex>"` inserted at its sorted place.
public enum Chain {
    /// Bytes in a raw SHA-256 hash.
    public static let hashByteCount = 32

    /// The `prev` of the event at seq 1: 32 zero bytes.
    public static let genesisHash = [UInt8](repeating: 0, count: hashByteCount)

    /// The `prev` of the event at seq 1 as hex: 64 zeros.
    public static let genesisHex = String(repeating: "0", count: 2 * hashByteCount)

    /// The hash of an event whose canonical body (without `prev` and `hash`) is `body`.
    ///
    /// - Parameter prevHex: the previous event's hash, 64 lower-case hex digits.
    /// - Throws: ``StoreError`` (``StoreError/Code/invalidArgument``) if `prevHex` is not 64
    ///   lower-case hex digits, or `body` is not a JSON object without a `prev` member.
    public static func hash(prevHex: String, bodyWithoutPrevAndHash body: [UInt8]) throws(StoreError) -> [UInt8] {
        guard let prevHash = bytes(fromHex: prevHex), prevHash.count == hashByteCount,
            prevHex.utf8.allSatisfy({ !(UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) })
        else {
            throw StoreError(.invalidArgument, "prev must be 64 lower-case hex digits")
        }
        return try hash(prevHash: prevHash, bodyWithoutPrevAndHash: body)
    }

    /// The hash of an event whose canonical body (without `prev` and `hash`) is `body`.
    ///
    /// - Parameter prevHash: the previous event's raw 32-byte hash.
    /// - Throws: ``StoreError`` (``StoreError/Code/invalidArgument``) if `prevHash` is not 32
    ///   bytes, or `body` is not a JSON object without a `prev` member.
    public static func hash(prevHash: [UInt8], bodyWithoutPrevAndHash body: [UInt8]) throws(StoreError) -> [UInt8] {
        guard prevHash.count == hashByteCount else {
            throw StoreError(.invalidArgument, "prev hash must be \(hashByteCount) bytes")
        }
        let hasher = ChainHasher()
        var result: Result<[UInt8], JSONMembers.Malformed> = .success([])
        prevHash.withUnsafeBytes { prev in
            body.withUnsafeBytes { bodyBytes in
                result = Result { () throws(JSONMembers.Malformed) in
                    try hasher.hash(prevHash: prev, body: bodyBytes).bytes
                }
            }
        }
        switch result {
        case .success(let digest): return digest
        case .failure(let malformed):
            throw StoreError(
                .invalidArgument,
                "body is not a canonical event object: \(malformed.reason) at byte \(malformed.offset)"
            )
        }
    }

    /// The full stored event: `body` with `prev` and `hash` (both hex) inserted in order.
    ///
    /// - Throws: ``StoreError`` (``StoreError/Code/invalidArgument``) if a hash is not 32
    ///   bytes or `body` is not a JSON object without `prev` and `hash` members.
    public static func fullEvent(
        bodyWithoutPrevAndHash body: [UInt8],
        prevHash: [UInt8],
        hash: [UInt8]
    )
        throws(StoreError) -> [UInt8]
    {
        guard prevHash.count == hashByteCount, hash.count == hashByteCount else {
            throw StoreError(.invalidArgument, "hashes must be \(hashByteCount) bytes")
        }
        do {
            let withHash = try JSONMembers.inserting(key: "hash", value: hex(hash), into: body)
            return try JSONMembers.inserting(key: "prev", value: hex(prevHash), into: withHash)
        } catch {
            throw StoreError(
                .invalidArgument,
                "body is not a canonical event object: \(error.reason) at byte \(error.offset)"
            )
        }
    }

    /// Lower-case hex of `bytes`.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            digits.append(hexDigits[Int(byte >> 4)])
            digits.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// The bytes that hex digits (either case, even count) spell, or `nil`.
    public static func bytes(fromHex hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = JSONMembers.hexValue(digits[index]),
                let low = JSONMembers.hexValue(digits[index + 1])
            else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

/// Computes chain hashes with one reusable buffer: the hot loop of appends and verification.
/// Use on one thread at a time.
final class ChainHasher {
    private var buffer: UnsafeMutableRawBufferPointer
    private static let prevKey: StaticString = "prev"
    private static let prevMemberStart: StaticString = #""prev":""#

    init() { buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 16) }

    deinit { buffer.deallocate() }

    /// SHA-256 of `hex(prevHash) + "\n" + body-with-"prev"-inserted`.
    ///
    /// - Parameter validatingBody: walk and check the whole body (for new records); without
    ///   it the walk stops where `prev` goes (for stored records, whose bytes are hashed as
    ///   they are).
    func hash(
        prevHash: UnsafeRawBufferPointer,
        body: UnsafeRawBufferPointer,
        validatingBody: Bool = true
    )
        throws(JSONMembers.Malformed) -> SHA256.Digest
    {
        let point = try Self.prevInsertionPoint(in: body, validating: validatingBody)
        return hash(prevHash: prevHash, body: body, at: point)
    }

    /// Where `prev` goes in `body` (``JSONMembers/insertionPoint(for:in:validatingRest:)``).
    static func prevInsertionPoint(
        in body: UnsafeRawBufferPointer,
        validating: Bool = true
    )
        throws(JSONMembers.Malformed) -> JSONMembers.InsertionPoint
    {
        try JSONMembers.insertionPoint(for: UnsafeRawBufferPointer(prevKey), in: body, validatingRest: validating)
    }

    /// SHA-256 of `hex(prevHash) + "\n" + body-with-"prev"-inserted`, `prev` going at
    /// `point` (from ``prevInsertionPoint(in:validating:)``).
    func hash(
        prevHash: UnsafeRawBufferPointer,
        body: UnsafeRawBufferPointer,
        at point: JSONMembers.InsertionPoint
    )
        -> SHA256.Digest
    {
        precondition(prevHash.count == Chain.hashByteCount, "prev hash must be 32 bytes")
        precondition(point.offset <= body.count, "insertion point beyond the body")
        // 64 hex + "\n" + body + `,"prev":"<64 hex>",` (at most 2 commas).
        let needed = 65 + body.count + 75
        if buffer.count < needed {
            buffer.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(needed, 2 * buffer.count), alignment: 16)
        }
        var out = ByteWriter(buffer: buffer)
        out.putHex(prevHash)
        let prevHex = UnsafeRawBufferPointer(rebasing: buffer[0..<64])
        out.put(UInt8(ascii: "\n"))
        out.put(UnsafeRawBufferPointer(rebasing: body[..<point.offset]))
        if point.needsLeadingComma { out.put(UInt8(ascii: ",")) }
        out.put(UnsafeRawBufferPointer(Self.prevMemberStart))
        out.put(prevHex)
        out.put(UInt8(ascii: "\""))
        if point.needsTrailingComma { out.put(UInt8(ascii: ",")) }
        out.put(UnsafeRawBufferPointer(rebasing: body[point.offset...]))
        let length = out.length
        assert(length <= needed, "chain hash buffer overrun")
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<length]))
        return hasher.finalize()
    }
}

/// Appends bytes to a buffer known to be large enough.
private struct ByteWriter {
    let buffer: UnsafeMutableRawBufferPointer
    var length = 0

    init(buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func put(_ byte: UInt8) {
        buffer[length] = byte
        length += 1
    }

    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        UnsafeMutableRawBufferPointer(rebasing: buffer[length..<(length + bytes.count)]).copyMemory(from: bytes)
        length += bytes.count
    }

    mutating func putHex(_ bytes: UnsafeRawBufferPointer) {
        precondition(length + 2 * bytes.count <= buffer.count, "hex does not fit")
        for byte in bytes {
            buffer[length] = Self.hexDigit(byte >> 4)
            buffer[length + 1] = Self.hexDigit(byte & 0x0F)
            length += 2
        }
    }

    /// The lower-case hex digit of a value 0…15.
    @inline(__always)
    static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 0x30 + value : 0x57 + value }
}

extension UnsafeRawBufferPointer {
    /// The UTF-8 bytes of a static string (which live for the whole program).
    init(_ string: StaticString) {
        self.init(start: string.utf8Start, count: string.utf8CodeUnitCount)
    }
}

extension SHA256.Digest {
    /// The digest's 32 bytes, copied at once (not element by element, as `Array(digest)` does).
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
