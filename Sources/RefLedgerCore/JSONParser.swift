/// A strict JSON parser (RFC 8259) over UTF-8 bytes.
///
/// Stricter than Foundation where the contract needs it: duplicate keys, invalid UTF-8,
/// lone surrogate escapes, control characters in strings and trailing content are errors.
/// Number literals are kept only as integers in 0 … 2^53−1 (`.integer`); every other valid
/// number literal becomes `.invalidNumber` (or, reading an answer rather than a fact, stays
/// as written: ``parseAnswer(_:)``).
public struct JSONParser {
    /// Why a text is not JSON, with the byte offset where that was found.
    public struct SyntaxError: Error, Sendable, Equatable {
        public let message: String
        public let offset: Int
    }

    /// Nesting deeper than this is refused (bounded recursion), as `bad_json`. SPEC §2 names no
    /// limit: this one is far above any fact's own nesting (a program's rules: 4 levels), so
    /// that a deeply nested value is judged by what it is (an unknown field, a bad value), and
    /// is Python's default recursion limit, where a checker written with `json` stops too.
    public static let maxDepth = 1000

    /// Parses exactly one JSON value from `bytes` (surrounding whitespace allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        return try parser.parseWhole()
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

    /// Parses one of the daemon's answers: like ``parse(_:)-([UInt8])``, but a number literal
    /// outside 0 … 2^53−1 (a ratio, a negative, a sum past 2^53) is kept as written
    /// (`.number`), so that the answer renders exactly as the offline query renders it.
    public static func parseAnswer(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SyntaxError) in
                var parser = JSONParser(bytes: buffer)
                parser.keepsNumbers = true
                return try parser.parseWhole()
            }
        }
        return try result.get()
    }

    /// Parses exactly one JSON value from `bytes`, like ``parse(_:)-(UnsafeRawBufferPointer)``.
    /// When it is an object whose members are all plain (``FlatCanonical``: keys and string
    /// values without escapes, integers as plain digits, at most `members.count` of them),
    /// also returns how many members it has, their byte ranges being the first that many of
    /// `members`; otherwise `nil`.
    static func parse(
        _ bytes: UnsafeRawBufferPointer,
        recordingMembersInto members: UnsafeMutableBufferPointer<FlatCanonical.Member>
    ) throws(SyntaxError) -> (value: JSONValue, flatMembers: Int?) {
        var parser = JSONParser(bytes: bytes)
        parser.recorder = members
        let value = try parser.parseWhole()
        guard case .object = value, parser.flat else { return (value, nil) }
        return (value, parser.recorded)
    }

    let bytes: UnsafeRawBufferPointer
    var position = 0
    /// Where the top-level object's members are recorded, if anywhere.
    private var recorder: UnsafeMutableBufferPointer<FlatCanonical.Member>?
    /// Members recorded, and whether every one so far is plain.
    private var recorded = 0
    private var flat = true
    /// Whether the last string parsed had an escape.
    var escaped = false
    /// Whether number literals the contract refuses in facts are kept as written.
    private var keepsNumbers = false

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func error(_ message: String) -> SyntaxError { SyntaxError(message: message, offset: position) }

    /// Exactly one value, surrounding whitespace allowed, and nothing after it.
    private mutating func parseWhole() throws(SyntaxError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected content after the JSON value") }
        return value
    }

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
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
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
        var seenKnown = KnownKeys.Seen()
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
            let duplicate =
                if let known { !seenKnown.insert(known) } else {
                    members.contains { $0.key.utf8.count == key.utf8.count && $0.key == key }
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
                record(
                    key: (keyOffset + 1)..<(keyEnd - 1),
                    value: valueStart..<position,
                    keyEscaped: keyEscaped,
                    of: value,
                    into: recorder
                )
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
        let start = position
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
        guard integral, !overflow, !negative || value == 0 else {
            guard keepsNumbers else { return .invalidNumber }
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
        }
        return .integer(value)
    }

    /// Records a member of the top-level object, or that they are not all plain.
    private mutating func record(
        key: Range<Int>,
        value range: Range<Int>,
        keyEscaped: Bool,
        of value: JSONValue,
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
}
