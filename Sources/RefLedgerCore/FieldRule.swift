/// What a string field may hold (SPEC §2): a length in UTF-8 bytes and, for most, a set of
/// allowed ASCII bytes.
public struct FieldRule: Sendable {
    /// Human words for the error message, e.g. "1–128 chars of [A-Za-z0-9._:-]".
    public let description: String
    private let lengths: ClosedRange<Int>
    /// Which bytes may appear, by value; `nil`: any.
    private let allowed: [Bool]?

    init(_ description: String, lengths: ClosedRange<Int>, allowing allowed: ((UInt8) -> Bool)?) {
        self.description = description
        self.lengths = lengths
        self.allowed = allowed.map { allowed in (0...255).map { allowed(UInt8($0)) } }
    }

    /// Whether `value` is allowed.
    public func allows(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { allows($0) }
    }

    /// Whether the string of these UTF-8 bytes is allowed.
    func allows(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard lengths.contains(bytes.count) else { return false }
        guard let allowed else { return true }
        return bytes.allSatisfy { allowed[Int($0)] }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// `id` and reference fields: 1–128 chars of `[A-Za-z0-9._:-]`.
    public static let identifier = FieldRule("1–128 characters of [A-Za-z0-9._:-]", lengths: 1...128) {
        isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":")
            || $0 == UInt8(ascii: "-")
    }

    /// Reference fields (`participant`, `order`, `payout`, `visitor`, `invitee`): as `identifier`.
    public static let reference = identifier

    /// `program`: 1–64 chars of `[a-z0-9_-]`.
    public static let programName = FieldRule("1–64 characters of [a-z0-9_-]", lengths: 1...64) {
        ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
            || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
    }

    /// Referral codes: `[A-Za-z0-9_-]{3,32}`.
    public static let code = FieldRule("3–32 characters of [A-Za-z0-9_-]", lengths: 3...32) {
        isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
    }

    /// `currency`: `[A-Z]{3}`.
    public static let currency = FieldRule("three capital letters [A-Z]{3}", lengths: 3...3) {
        $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")
    }

    /// `reason`: any string of at most 1024 bytes.
    public static let reason = FieldRule("a string of at most 1024 bytes", lengths: 0...1024, allowing: nil)
}

/// Reads typed values out of a JSON object, naming the field path in every error.
struct FieldReader {
    let object: JSONObject
    let path: String

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func field(_ key: String) -> String { Self.join(path, key) }

    /// The string of a fact's `member` if present, checked against that member's rule.
    func factString(_ member: FactField) throws(LedgerError) -> String? {
        guard let rule = member.rule else { preconditionFailure("\(member.name) is no string member of a fact") }
        return try string(member.name, rule)
    }

    /// The string at `key` if present, checked against `rule`.
    func string(_ key: String, _ rule: FieldRule) throws(LedgerError) -> String? {
        guard let value = object[key] else { return nil }
        guard case .string(let string) = value, rule.allows(string) else {
            throw LedgerError(.badValue, "\(field(key)) must be \(rule.description)", field: field(key))
        }
        return string
    }

    /// The integer at `key` if present, within `range`.
    func integer(_ key: String, in range: ClosedRange<Int64>) throws(LedgerError) -> Int64? {
        guard let value = object[key] else { return nil }
        return try Self.integer(value, in: range, field: field(key))
    }

    static func integer(_ value: JSONValue, in range: ClosedRange<Int64>, field: String) throws(LedgerError) -> Int64 {
        guard case .integer(let integer) = value, range.contains(integer) else {
            throw LedgerError(
                .badValue,
                "\(field) must be an integer from \(range.lowerBound) to \(range.upperBound)",
                field: field
            )
        }
        return integer
    }

    /// The channel at `key` if present.
    func channel(_ key: String) throws(LedgerError) -> Channel? {
        guard let value = object[key] else { return nil }
        guard case .string(let name) = value, let channel = Channel(rawValue: name) else {
            throw LedgerError(
                .badValue,
                "\(field(key)) must be one of email, sms, link, social, other",
                field: field(key)
            )
        }
        return channel
    }
}
