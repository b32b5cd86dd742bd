/// The member names the contract uses (facts, rules, stored and derived events), kept as
/// string literals so that parsing one costs no new `String`: the parser looks a key's bytes
/// up here first, and a key found is the literal itself.
enum KnownKeys {
    private struct Entry {
        let name: String
        let bytes: [UInt8]
        let index: Int
    }

    /// The names: the fields of facts (the envelope first: they are looked up most) and of
    /// rules as the decoders list them, the members the daemon adds to a stored fact, and
    /// those of derived events; each once, in that order.
    private static let names: [String] = {
        var seen: Set<String> = []
        return
            (FactDecoder.memberNames + RulesDecoder.memberNames + StoredEvent.daemonMembers.sorted()
            + ["participant", "role", "amount", "currency", "available_at", "order", "reward", "cause"])
            .filter { seen.insert($0).inserted }
    }()

    /// The longest name.
    static let maxLength = names.map(\.utf8.count).max() ?? 0

    /// The names, by their UTF-8 length.
    private static let byLength: [[Entry]] = {
        var table = [[Entry]](repeating: [], count: maxLength + 1)
        for (index, name) in names.enumerated() {
            table[name.utf8.count].append(Entry(name: name, bytes: Array(name.utf8), index: index))
        }
        return table
    }()

    /// How many names there are; each has an index below this.
    static var count: Int { names.count }

    /// The known name spelled by `bytes`, and its index, if any.
    static func name(_ bytes: UnsafeRawBufferPointer) -> (name: String, index: Int)? {
        guard bytes.count <= maxLength, let start = bytes.baseAddress else { return nil }
        let input = start.assumingMemoryBound(to: UInt8.self)
        for entry in byLength[bytes.count] {
            let same = entry.bytes.withUnsafeBufferPointer { known in
                var index = 0
                while index < known.count, known[index] == input[index] { index += 1 }
                return index == known.count
            }
            if same { return (entry.name, entry.index) }
        }
        return nil
    }

    /// Which known names an object has shown so far: a bit each.
    struct Seen {
        private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        init() { assert(KnownKeys.count <= 256, "KnownKeys.Seen holds 256 names") }

        /// Notes the name with index `index`; whether it was new.
        @inline(__always)
        mutating func insert(_ index: Int) -> Bool {
            let bit: UInt64 = 1 << UInt64(index & 63)
            let old: UInt64
            switch index >> 6 {
            case 0: (old, words.0) = (words.0, words.0 | bit)
            case 1: (old, words.1) = (words.1, words.1 | bit)
            case 2: (old, words.2) = (words.2, words.2 | bit)
            default: (old, words.3) = (words.3, words.3 | bit)
            }
            return old & bit == 0
        }
    }
}
