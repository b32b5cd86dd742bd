/// A point in time with millisecond precision: milliseconds since 1970-01-01T00:00:00Z.
///
/// Parsed from RFC 3339 (`Z` or a ±hh:mm offset, at most 3 fraction digits) and always
/// written normalized as UTC with milliseconds: `2026-11-22T10:00:00.000Z`.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch, UTC.
    public var millisecondsSinceEpoch: Int64

    /// The earliest and latest instants that normalize to a four-digit year.
    static let earliest = Timestamp(millisecondsSinceEpoch: -62_167_219_200_000)  // 0000-01-01T00:00:00.000Z
    static let latest = Timestamp(millisecondsSinceEpoch: 253_402_300_799_999)  // 9999-12-31T23:59:59.999Z

    public init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// This time moved by `milliseconds`.
    public func adding(milliseconds: Int64) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
    }

    /// Parses an RFC 3339 date-time; `nil` when it is not one, names an impossible date, has
    /// more than 3 fraction digits, or falls outside years 0000–9999 once normalized to UTC.
    public init?(rfc3339 text: String) {
        var text = text
        guard let value = text.withUTF8({ Self.parse(rfc3339: $0) }) else { return nil }
        self = value
    }

    static func parse(rfc3339 utf8: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        guard utf8.count >= 20 else { return nil }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = utf8[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"),
            utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: "t"),
            utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":"),
            let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
            let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19)
        else { return nil }
        var index = 19
        var millis = 0
        if utf8[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < utf8.count, utf8[index] >= UInt8(ascii: "0"), utf8[index] <= UInt8(ascii: "9") { index += 1 }
            let fractionDigits = index - fractionStart
            guard (1...3).contains(fractionDigits), let fraction = digits(fractionStart..<index) else { return nil }
            millis = fraction * [1, 100, 10, 1][fractionDigits]
        }
        guard index < utf8.count else { return nil }
        var offsetMinutes = 0
        switch utf8[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard utf8.count == index + 6, utf8[index + 3] == UInt8(ascii: ":"),
                let offsetHour = digits(index + 1..<index + 3), let offsetMinute = digits(index + 4..<index + 6),
                offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (utf8[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == utf8.count else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        let value = Timestamp(millisecondsSinceEpoch: seconds * 1000 + Int64(millis))
        guard value >= Self.earliest, value <= Self.latest else { return nil }
        return value
    }

    /// The normalized form, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public var description: String {
        let millis = Int(((millisecondsSinceEpoch % 1000) + 1000) % 1000)
        let totalSeconds = (millisecondsSinceEpoch - Int64(millis)) / 1000
        let secondsOfDay = Int(((totalSeconds % 86_400) + 86_400) % 86_400)
        let days = Int((totalSeconds - Int64(secondsOfDay)) / 86_400)
        let (year, month, day) = Self.civilFromDays(days)
        return String(unsafeUninitializedCapacity: 24) { bytes in
            func put(_ value: Int, width: Int, at offset: Int) {
                var rest = value
                for position in stride(from: offset + width - 1, through: offset, by: -1) {
                    bytes[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(year, width: 4, at: 0)
            bytes[4] = UInt8(ascii: "-")
            put(month, width: 2, at: 5)
            bytes[7] = UInt8(ascii: "-")
            put(day, width: 2, at: 8)
            bytes[10] = UInt8(ascii: "T")
            put(secondsOfDay / 3600, width: 2, at: 11)
            bytes[13] = UInt8(ascii: ":")
            put(secondsOfDay / 60 % 60, width: 2, at: 14)
            bytes[16] = UInt8(ascii: ":")
            put(secondsOfDay % 60, width: 2, at: 17)
            bytes[19] = UInt8(ascii: ".")
            put(millis, width: 3, at: 20)
            bytes[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day number since 1970-01-01 (H. Hinnant's algorithm).
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
