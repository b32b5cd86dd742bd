/// Exact decimal answers for query bodies: quotients of integers rounded half away from
/// zero, written as JSON numbers.
public enum ExactDecimal {
    /// `numerator / denominator` rounded half away from zero to `places` decimals, or JSON
    /// `null` when the denominator is 0 (SPEC §8).
    /// Counts and sums of money alike, below 2^100 in magnitude (the scaled numerator fits 128
    /// bits).
    public static func ratio(_ numerator: Money, _ denominator: Money, places: Int = 6) -> JSONValue {
        guard denominator != 0 else { return .null }
        var scale: Int128 = 1
        for _ in 0..<places { scale *= 10 }
        let scaledNumerator = numerator * scale
        let divisor = denominator
        var quotient = scaledNumerator / divisor
        let remainder = scaledNumerator % divisor
        // Round half away from zero: compare 2|r| with |d|.
        if 2 * remainder.magnitude >= divisor.magnitude {
            quotient += (scaledNumerator < 0) != (divisor < 0) ? -1 : 1
        }
        return .number(format(quotient, places: places))
    }

    /// `scaled / 10^places` written with trailing zeros trimmed (at least one decimal).
    public static func format(_ scaled: Int128, places: Int) -> String {
        let negative = scaled < 0
        var digits = String(scaled.magnitude)
        if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
        let split = digits.index(digits.endIndex, offsetBy: -places)
        var fraction = String(digits[split...])
        while fraction.count > 1, fraction.hasSuffix("0") { fraction.removeLast() }
        if fraction.isEmpty { fraction = "0" }
        return (negative ? "-" : "") + digits[..<split] + "." + fraction
    }
}
