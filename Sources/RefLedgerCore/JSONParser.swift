/// A strict JSON parser (RFC 8259) over UTF-8 bytes.
///
/// Stricter than Foundation where the contract needs it: duplicate keys, invalid UTF-8,
/// lone surrogate escapes, control characters in strings and trailing content are errors.
/// Number literals are kept only as integers in 0 … 2^53−1 (`.integer`); every other valid
/// number literal becomes `.invalidNumber`.
public struct JSONParser {
    /// Why a text is not JSON, with the byte offset where that was found.
    public struct SyntaxError: Error, Sendable, Equatable {
        public let message: String
        public let offset: Int
    }

    /// Nesting deeper than this is refused (bounded recursion).
    public static let maxDepth = 64

    /// Parses exactly one JSON value from `bytes` (surrounding whitespace allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected content after the JSON value") }
        return value
    }

    /// Parses exactly one JSON value from `bytes`.
    public static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        do {
            return try bytes.withUnsafeBytes { buffer in try parse(buffer) }
        } catch let error as SyntaxError {
            throw error
        } catch {
            throw SyntaxError(message: "\(error)", offset: 0)
        }
    }

    /// Parses exactly one JSON value from `bytes`, like ``parse(_:)-(UnsafeRawBufferPointer)``.
    /// When it is an object whose members are all plain (``FlatCanonical``: keys and string
    /// values without escapes, integers as plain digits, at most `members.count` of them),
    /// also returns how many members it has, their byte ranges being the first that many of
    /// `members`; otherwise `nil`.
    static func parse(
        _ bytes: UnsafeRawBufferPointer, recordingMembersInto members: UnsafeMutableBufferPointer<FlatCanonical.Member>
    ) throws(SyntaxError) -> (value: JSONValue, flatMembers: Int?) {
        var parser = JSONParser(bytes: bytes)
        parser.recorder = members
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected content after the JSON value") }
        guard case .object = value, parser.flat else { return (value, nil) }
        return (value, parser.recorded)
    }

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    /// Where the top-level object's members are recorded, if anywhere.
    private var recorder: UnsafeMutableBufferPointer<FlatCanonical.Member>?
    /// Members recorded, and whether every one so far is plain.
    private var recorded = 0
    private var flat = true
    /// Whether the last string parsed had an escape.
    private var escaped = false

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private func error(_ message: String) -> SyntaxError { SyntaxError(message: message, offset: position) }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(SyntaxError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(SyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("unexpected end of input") }
        let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: count)
        for offset in 0..<count where bytes[position + offset] != expected[offset] {
            throw error("invalid literal")
        }
        position += count
    }

    private mutating func parseObject(depth: Int) throws(SyntaxError) -> JSONObject {
        guard depth <= Self.maxDepth else { throw error("nesting too deep") }
        position += 1
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(10)
        var seenKnown = KnownKeySet()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return JSONObject()
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a string key")
            }
            let keyOffset = position
            escaped = false
            let (key, known) = try parseKey()
            let keyEnd = position
            let keyEscaped = escaped
            // A known name is found again by its bit; any other by comparing.
            let duplicate: Bool
            if let known {
                duplicate = seenKnown[known >> 6] & (1 << UInt64(known & 63)) != 0
                seenKnown[known >> 6] |= 1 << UInt64(known & 63)
            } else {
                duplicate = members.contains { $0.key.utf8.count == key.utf8.count && $0.key == key }
            }
            if duplicate { throw SyntaxError(message: "duplicate key \"\(key)\"", offset: keyOffset) }
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            let valueStart = position
            escaped = false
            let value = try parseValue(depth: depth)
            if depth == 1, let recorder, flat {
                record(key: (keyOffset + 1)..<(keyEnd - 1), value: valueStart..<position, keyEscaped: keyEscaped,
                       of: value, into: recorder)
            }
            members.append((key, value))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            position += 1
            return JSONObject(uniqueMembers: members)
        }
    }

    private mutating func parseArray(depth: Int) throws(SyntaxError) -> JSONValue {
        guard depth <= Self.maxDepth else { throw error("nesting too deep") }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
            position += 1
            return .array(elements)
        }
    }

    private mutating func parseNumber() throws(SyntaxError) -> JSONValue {
        var negative = false
        if bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
        var value: Int64 = 0
        var overflow = false
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw error("leading zeros are not allowed") }
        } else {
            while position < bytes.count, isDigit(bytes[position]) {
                if !overflow {
                    value = value * 10 + Int64(bytes[position] - UInt8(ascii: "0"))
                    if value > JSONValue.maxInteger { overflow = true }
                }
                position += 1
            }
        }
        var integral = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            integral = false
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            integral = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        guard integral, !overflow, !negative || value == 0 else { return .invalidNumber }
        return .integer(value)
    }

    /// Which ``KnownKeys`` an object has: a bit each.
    private struct KnownKeySet {
        private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        init() { assert(KnownKeys.count <= 256, "KnownKeySet holds 256 names") }

        subscript(word: Int) -> UInt64 {
            get {
                switch word {
                case 0: words.0
                case 1: words.1
                case 2: words.2
                default: words.3
                }
            }
            set {
                switch word {
                case 0: words.0 = newValue
                case 1: words.1 = newValue
                case 2: words.2 = newValue
                default: words.3 = newValue
                }
            }
        }
    }

    /// Records a member of the top-level object, or that they are not all plain.
    private mutating func record(
        key: Range<Int>, value range: Range<Int>, keyEscaped: Bool, of value: JSONValue,
        into recorder: UnsafeMutableBufferPointer<FlatCanonical.Member>
    ) {
        let plain: Bool
        switch value {
        case .string: plain = !escaped
        case .integer: plain = bytes[range.lowerBound] != UInt8(ascii: "-")  // "-0" is not how JCS writes 0
        default: plain = false
        }
        guard plain, !keyEscaped, recorded < recorder.count else {
            flat = false
            return
        }
        recorder[recorded] = FlatCanonical.Member(key: key, value: range)
        recorded += 1
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Moves `position` eight bytes a step up to the first `"`, `\` or control character
    /// (or to the last few bytes), noting in `highBits` whether a byte passed over is not ASCII.
    private mutating func skipPlainBytes(highBits: inout UInt8) {
        guard let base = bytes.baseAddress else { return }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var passed: UInt64 = 0
        while position + 8 <= bytes.count {
            let word = UInt64(littleEndian: (base + position).loadUnaligned(as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // A flagged byte is a quote, a backslash or below 0x20; the lowest flag is exact.
            let stops = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word) & highs
            if stops != 0 {
                let before = stops.trailingZeroBitCount / 8
                passed |= word & ((UInt64(1) << UInt64(8 * before)) &- 1)
                position += before
                break
            }
            passed |= word
            position += 8
        }
        if passed & highs != 0 { highBits |= 0x80 }
    }

    /// A member name, with its ``KnownKeys`` index when it is one of the contract's own
    /// (then the contract's own string); otherwise parsed as any string.
    private mutating func parseKey() throws(SyntaxError) -> (name: String, known: Int?) {
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

    private mutating func parseString() throws(SyntaxError) -> String {
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
