/// The member names the contract uses (facts, rules, stored and derived events), kept as
/// string literals so that parsing one costs no new `String`: the parser looks a key's bytes
/// up here first, and a key found is the literal itself.
enum KnownKeys {
    private struct Entry {
        let name: String
        let bytes: [UInt8]
    }

    /// The known names, by their UTF-8 length.
    private static let byLength: [[Entry]] = {
        let names = [
            "id", "type", "program", "time", "participant", "code", "referrer_code", "visitor", "channel",
            "invitee", "order", "amount", "currency", "payout", "reason", "rules", "attribution_window_days",
            "trigger", "referrer_reward", "referee_reward", "tiers", "levels_bps", "hold_days", "referrer_cap",
            "fixed", "percent_bps", "min_referrals", "seq", "recorded_at", "prev", "hash", "attribution",
            "referrer", "self_referrer", "code_assigned", "role", "available_at", "reward", "cause",
        ]
        var table = [[Entry]](repeating: [], count: maxLength + 1)
        for name in names { table[name.utf8.count].append(Entry(name: name, bytes: Array(name.utf8))) }
        return table
    }()

    /// The longest name looked up.
    static let maxLength = 24

    /// The known name spelled by `bytes`, if any.
    static func name(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count <= maxLength, let start = bytes.baseAddress else { return nil }
        let input = start.assumingMemoryBound(to: UInt8.self)
        for entry in byLength[bytes.count] {
            let same = entry.bytes.withUnsafeBufferPointer { known in
                var index = 0
                while index < known.count, known[index] == input[index] { index += 1 }
                return index == known.count
            }
            if same { return entry.name }
        }
        return nil
    }
}
