/// Inserting string members into a canonical (RFC 8785) JSON object, by walking its
/// top-level members — never by searching for substrings.
///
/// The walk tolerates whitespace between tokens and checks the structure it needs (strings,
/// nesting, literals); it is not a full validator of numbers or nested members.
enum JSONMembers {
    /// Where a new member goes among an object's top-level members.
    struct InsertionPoint: Equatable {
        /// Byte offset to insert at.
        var offset: Int
        /// Whether a `,` goes before the new member (it is not the first).
        var needsLeadingComma: Bool
        /// Whether a `,` goes after the new member (members follow it).
        var needsTrailingComma: Bool
    }

    /// Why a body could not be walked.
    struct Malformed: Error, Equatable {
        /// Byte offset of the problem.
        var offset: Int
        /// What is wrong.
        var reason: String
    }

    /// The deepest nesting the walk accepts.
    static let maxDepth = 64

    /// Finds where the member named `key` (plain ASCII, no escapes) sorts among the top-level
    /// members of the object in `body`.
    ///
    /// With `validatingRest`, the whole object is walked and checked; without it, the walk
    /// stops at the first member that sorts after `key` (enough for a sorted, canonical body,
    /// and what hashing stored records needs: the bytes after the point are hashed as they are).
    ///
    /// - Throws: ``Malformed`` if `body` is not one object (as far as walked), or has `key`.
    static func insertionPoint(
        for key: UnsafeRawBufferPointer,
        in body: UnsafeRawBufferPointer,
        validatingRest: Bool = true
    ) throws(Malformed) -> InsertionPoint {
        var walker = Walker(bytes: body)
        walker.skipWhitespace()
        try walker.expect(UInt8(ascii: "{"))
        walker.skipWhitespace()
        if walker.peek() == UInt8(ascii: "}") {
            let point = InsertionPoint(offset: walker.position, needsLeadingComma: false, needsTrailingComma: false)
            walker.position += 1
            try walker.expectEnd()
            return point
        }
        var found: InsertionPoint?
        var isFirst = true
        while true {
            walker.skipWhitespace()
            let memberStart = walker.position
            let keyRange = try walker.skipString()
            if found == nil {
                let order = compareKey(UnsafeRawBufferPointer(rebasing: body[keyRange]), key)
                if order == 0 { throw Malformed(offset: memberStart, reason: "member already present") }
                if order > 0 {
                    let point = InsertionPoint(offset: memberStart, needsLeadingComma: false, needsTrailingComma: true)
                    if !validatingRest { return point }
                    found = point
                }
            }
            walker.skipWhitespace()
            try walker.expect(UInt8(ascii: ":"))
            walker.skipWhitespace()
            try walker.skipValue()
            walker.skipWhitespace()
            isFirst = false
            if walker.peek() == UInt8(ascii: ",") {
                walker.position += 1
                continue
            }
            let end = walker.position
            try walker.expect(UInt8(ascii: "}"))
            try walker.expectEnd()
            return found ?? InsertionPoint(offset: end, needsLeadingComma: !isFirst, needsTrailingComma: false)
        }
    }

    /// `body` with the string member `"key":"value"` inserted at its sorted place.
    static func inserting(key: String, value: String, into body: [UInt8]) throws(Malformed) -> [UInt8] {
        let keyBytes = Array(key.utf8)
        precondition(
            keyBytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C },
            "key must be plain ASCII"
        )
        var failure: Malformed?
        var result: [UInt8] = []
        body.withUnsafeBytes { bodyBytes in
            keyBytes.withUnsafeBytes { keyBuffer in
                do throws(Malformed) {
                    let point = try insertionPoint(for: keyBuffer, in: bodyBytes)
                    result.reserveCapacity(body.count + keyBytes.count + value.utf8.count + 8)
                    result.append(contentsOf: bodyBytes[..<point.offset])
                    appendMember(key: keyBytes, value: value, point: point, to: &result)
                    result.append(contentsOf: bodyBytes[point.offset...])
                } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return result
    }

    /// Appends `,"key":"value",` (commas as `point` says) with `value` escaped per RFC 8785.
    static func appendMember(key: [UInt8], value: String, point: InsertionPoint, to output: inout [UInt8]) {
        if point.needsLeadingComma { output.append(UInt8(ascii: ",")) }
        output.append(UInt8(ascii: "\""))
        output.append(contentsOf: key)
        output.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        appendString(value, to: &output)
        if point.needsTrailingComma { output.append(UInt8(ascii: ",")) }
    }

    /// Appends `value` as a JSON string with RFC 8785's minimal escaping.
    static func appendString(_ value: String, to output: inout [UInt8]) {
        let hexDigits = Array("0123456789abcdef".utf8)
        output.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case 0x08: output.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0C: output.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0xF)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Compares a raw key as it appears between quotes in JSON with a plain ASCII `key`, by
    /// UTF-16 code units of the decoded key (RFC 8785 §3.2.3). Negative, zero or positive.
    static func compareKey(_ raw: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer) -> Int {
        // Plain ASCII bytes are UTF-16 code units; fall back to decoding at the first escape or
        // non-ASCII byte before a difference. Past a common prefix, any remaining raw byte
        // decodes to at least one code unit, so comparing lengths is right.
        let common = min(raw.count, key.count)
        var index = 0
        while index < common {
            let byte = raw[index]
            if byte == 0x5C || byte >= 0x80 { return compareDecoded(raw, key) }
            if byte != key[index] { return Int(byte) - Int(key[index]) }
            index += 1
        }
        return raw.count - key.count
    }

    private static func compareDecoded(_ raw: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer) -> Int {
        let decoded = decodeUTF16(raw)
        let plain = key.map { UInt16($0) }
        for (left, right) in zip(decoded, plain) where left != right { return Int(left) - Int(right) }
        return decoded.count - plain.count
    }

    /// Decodes a JSON string's raw contents (already checked by the walker) to UTF-16 code
    /// units; invalid sequences decode to U+FFFD.
    static func decodeUTF16(_ raw: UnsafeRawBufferPointer) -> [UInt16] {
        var units: [UInt16] = []
        var bytes: [UInt8] = []
        func flushBytes() {
            units.append(contentsOf: String(decoding: bytes, as: UTF8.self).utf16)
            bytes.removeAll(keepingCapacity: true)
        }
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            guard byte == 0x5C, index + 1 < raw.count else {
                bytes.append(byte)
                index += 1
                continue
            }
            flushBytes()
            let escape = raw[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "b"): units.append(0x08)
            case UInt8(ascii: "f"): units.append(0x0C)
            case UInt8(ascii: "n"): units.append(0x0A)
            case UInt8(ascii: "r"): units.append(0x0D)
            case UInt8(ascii: "t"): units.append(0x09)
            case UInt8(ascii: "u"):
                var unit: UInt16 = 0
                var digits = 0
                while digits < 4, index < raw.count, let value = hexValue(raw[index]) {
                    unit = unit << 4 | UInt16(value)
                    digits += 1
                    index += 1
                }
                units.append(digits == 4 ? unit : 0xFFFD)
            default: units.append(UInt16(escape))
            }
        }
        flushBytes()
        return units
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
