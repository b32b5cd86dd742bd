/// RFC 8785 (JCS) serialization of `JSONValue`s: keys sorted by UTF-16 code units, no
/// whitespace, minimal string escaping, integers in decimal.
///
/// For refledger's values (strings, integers, booleans) this is byte-for-byte what Python's
/// `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes.
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, into: &output)
        return output
    }

    /// The canonical bytes of `object`.
    public static func encode(_ object: JSONObject) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(object, into: &output)
        return output
    }

    /// Appends the canonical bytes of `value` to `output`.
    public static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .string(let string): writeString(string, into: &output)
        case .integer(let integer): writeInteger(integer, into: &output)
        case .bool(let flag): output.append(contentsOf: flag ? Array("true".utf8) : Array("false".utf8))
        case .null, .invalidNumber: output.append(contentsOf: Array("null".utf8))
        case .number(let literal): output.append(contentsOf: Array(literal.utf8))
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

    /// Appends the canonical bytes of `object` to `output`.
    public static func write(_ object: JSONObject, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        for (index, member) in object.sortedMembers.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            writeString(member.key, into: &output)
            output.append(UInt8(ascii: ":"))
            write(member.value, into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Whether `a` sorts before `b` by UTF-16 code units (RFC 8785 §3.2.3).
    public static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        // UTF-8 byte order is code point order, which is UTF-16 order except where a
        // character above U+FFFF meets one in U+E000…U+FFFF: only then compare UTF-16.
        var a = a
        var b = b
        let byBytes: Bool? = a.withUTF8 { x in
            b.withUTF8 { y in
                for index in 0..<min(x.count, y.count) where x[index] != y[index] {
                    if x[index] >= 0xEE || y[index] >= 0xEE { return nil }
                    return x[index] < y[index]
                }
                return x.count < y.count
            }
        }
        return byBytes ?? a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// Appends `integer` in decimal.
    public static func writeInteger(_ integer: Int64, into output: inout [UInt8]) {
        if integer == 0 {
            output.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = integer.magnitude
        if integer < 0 { output.append(UInt8(ascii: "-")) }
        var buffer = [UInt8](repeating: 0, count: 20)
        var position = buffer.count
        while magnitude > 0 {
            position -= 1
            buffer[position] = UInt8(truncatingIfNeeded: magnitude % 10) + UInt8(ascii: "0")
            magnitude /= 10
        }
        output.append(contentsOf: buffer[position...])
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `string` as a JSON string with minimal escaping.
    public static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
