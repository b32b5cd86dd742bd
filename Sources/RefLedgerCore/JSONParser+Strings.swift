/// Strings and member names: the byte-level half of ``JSONParser``.
extension JSONParser {
    /// Moves `position` eight bytes a step up to the first `"`, `\` or control character
    /// (or to the last few bytes), noting in `highBits` whether a byte passed over is not ASCII.
    private mutating func skipPlainBytes(highBits: inout UInt8) {
        guard let base = bytes.baseAddress else { return }
        var passed: UInt64 = 0
        while position + 8 <= bytes.count {
            let word = ByteWords.load(base, at: position)
            let stops =
                ByteWords.equal(word, UInt8(ascii: "\"")) | ByteWords.equal(word, UInt8(ascii: "\\"))
                | ByteWords.below(word, 0x20)
            if stops != 0 {
                let before = ByteWords.firstFlagged(stops)
                passed |= ByteWords.prefix(word, before)
                position += before
                break
            }
            passed |= word
            position += 8
        }
        if passed & ByteWords.highs != 0 { highBits |= 0x80 }
    }

    /// A member name, with its ``KnownKeys`` index when it is one of the contract's own
    /// (then the contract's own string); otherwise parsed as any string.
    mutating func parseKey() throws(SyntaxError) -> (name: String, known: Int?) {
        var end = position + 1
        let limit = min(bytes.count, position + KnownKeys.maxLength + 2)
        while end < limit {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            if byte == UInt8(ascii: "\"") {
                if let known = KnownKeys.name(UnsafeRawBufferPointer(rebasing: bytes[(position + 1)..<end])) {
                    position = end + 1
                    return (known.name, known.index)
                }
                break
            }
            end += 1
        }
        // Escaped, or not a known name: decoded, then looked up once more.
        var name = try parseString()
        let known = name.withUTF8 { KnownKeys.name(UnsafeRawBufferPointer($0)) }
        return (known?.name ?? name, known?.index)
    }

    mutating func parseString() throws(SyntaxError) -> String {
        position += 1
        let start = position
        var highBits: UInt8 = 0
        // Fast path: no escapes. ASCII needs no validation; anything else is validated.
        skipPlainBytes(highBits: &highBits)
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                position += 1
                if highBits & 0x80 == 0 { return String(decoding: slice, as: UTF8.self) }
                guard let string = String(validating: slice, as: UTF8.self) else {
                    throw SyntaxError(message: "invalid UTF-8 in string", offset: start)
                }
                return string
            }
            highBits |= byte
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in string") }
            position += 1
        }
        escaped = true
        var scalars: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let string = String(validating: scalars, as: UTF8.self) else {
                    throw SyntaxError(message: "invalid UTF-8 in string", offset: start)
                }
                return string
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw error("unexpected end of input") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): scalars.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): scalars.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"): appendUTF8(of: try parseUnicodeEscape(), to: &scalars)
                default: throw error("invalid escape")
                }
            default:
                if byte < 0x20 { throw error("control character in string") }
                scalars.append(byte)
                position += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func parseHex4() throws(SyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("unexpected end of input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func parseUnicodeEscape() throws(SyntaxError) -> Unicode.Scalar {
        let first = try parseHex4()
        if (0xDC00...0xDFFF).contains(first) { throw error("lone low surrogate") }
        if (0xD800...0xDBFF).contains(first) {
            guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
                bytes[position + 1] == UInt8(ascii: "u")
            else { throw error("lone high surrogate") }
            position += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw error("lone high surrogate") }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw error("invalid \\u escape") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw error("invalid \\u escape") }
        return scalar
    }

    private func appendUTF8(of scalar: Unicode.Scalar, to output: inout [UInt8]) {
        UTF8.encode(scalar) { output.append($0) }
    }
}
