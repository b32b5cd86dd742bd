/// RFC 8785 (JCS) serialization of `JSONValue`s: keys sorted by UTF-16 code units, no
/// whitespace, minimal string escaping, integers in decimal.
///
/// For refledger's values (strings, integers, booleans) this is byte-for-byte what Python's
/// `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes.
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        write(value, into: &output)
        return output
    }

    /// The canonical bytes of `object`.
    public static func encode(_ object: JSONObject) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        write(object, into: &output)
        return output
    }

    /// Appends the canonical bytes of `value` to `output`.
    public static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .string(let string): writeString(string, into: &output)
        case .integer(let integer): writeInteger(integer, into: &output)
        case .bool(let flag): append(flag ? "true" : "false", to: &output)
        case .null, .invalidNumber: append("null", to: &output)
        case .number(let literal): output.append(contentsOf: literal.utf8)
        case .object(let object): write(object, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
    }

    private static func append(_ literal: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends the canonical bytes of `object` to `output`.
    public static func write(_ object: JSONObject, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        object.withSortedMemberIndices { members, order in
            for (position, index) in order.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                writeString(members[index].key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(members[index].value, into: &output)
            }
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Whether `a` sorts before `b` by UTF-16 code units (RFC 8785 §3.2.3).
    public static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        // UTF-8 byte order is code point order, which is UTF-16 order except where a
        // character above U+FFFF meets one in U+E000…U+FFFF: only then compare UTF-16.
        let byBytes: Bool?? = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in bytesPrecede(x, y) } ?? nil
        }
        if let byBytes, let byBytes { return byBytes }
        var a = a
        var b = b
        let slow: Bool? = a.withUTF8 { x in b.withUTF8 { y in bytesPrecede(x, y) } }
        return slow ?? a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// UTF-8 byte order, or nil where it may differ from UTF-16 order.
    private static func bytesPrecede(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool? {
        for index in 0..<min(x.count, y.count) where x[index] != y[index] {
            if x[index] >= 0xEE || y[index] >= 0xEE { return nil }
            return x[index] < y[index]
        }
        return x.count < y.count
    }

    /// Appends `integer` in decimal.
    public static func writeInteger(_ integer: Int64, into output: inout [UInt8]) {
        if integer < 0 { output.append(UInt8(ascii: "-")) }
        let magnitude = integer.magnitude
        var digits = 1
        var scale: UInt64 = 10
        while digits < 20, magnitude >= scale {
            digits += 1
            scale = scale &* 10
        }
        let start = output.count
        output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var rest = magnitude
        var position = start + digits
        while rest > 0 {
            position -= 1
            output[position] = UInt8(truncatingIfNeeded: rest % 10) + UInt8(ascii: "0")
            rest /= 10
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `string` as a JSON string with minimal escaping.
    public static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        let copied: Bool? = string.utf8.withContiguousStorageIfAvailable { bytes in
            // Most strings need no escape: copy them whole.
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            output.append(contentsOf: bytes)
            return true
        }
        if copied != true { writeEscaped(string.utf8, into: &output) }
        output.append(UInt8(ascii: "\""))
    }

    private static func writeEscaped(_ utf8: String.UTF8View, into output: inout [UInt8]) {
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
    }
}
