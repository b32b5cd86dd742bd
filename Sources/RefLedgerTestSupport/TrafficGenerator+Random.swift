/// xoshiro256** seeded through SplitMix64: the traffic generator's only source of randomness.
///
/// Everything built on it uses integer arithmetic or IEEE-exact operations (`+ - * /`,
/// `sqrt`), so a seed gives the same numbers on every machine and toolchain — unlike
/// `SystemRandomNumberGenerator`, or `Int.random(in:using:)` whose algorithm is the standard
/// library's to change.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var state = seed
        func splitMix() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A number in `0 ..< bound` (`bound` > 0), by the high half of a 64×64-bit product.
    public mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: UInt64(bound).multipliedFullWidth(by: next()).high)
    }

    /// A number in `low ... high`.
    public mutating func between(_ low: Int64, _ high: Int64) -> Int64 {
        low + Int64(below(Int(high - low) + 1))
    }

    /// True with probability `probability` (0 … 1).
    public mutating func chance(_ probability: Double) -> Bool {
        next() >> 11 < UInt64(probability * 9_007_199_254_740_992.0)
    }

    /// A uniformly random element of a non-empty array.
    public mutating func pick<T>(_ elements: [T]) -> T { elements[below(elements.count)] }
}

/// A truncated discrete power law (Zipf): P(k) ∝ k^−2.25 for k = 1 … 1200, whose mean is
/// 2.68 — the invites an inviting customer sends on average (DESIGN "Domain numbers").
///
/// The weights need only `sqrt`, `*` and `/`, which IEEE 754 rounds exactly, so the table is
/// the same everywhere.
struct PowerLaw: Sendable {
    static let invites = PowerLaw(maximum: 1200)

    /// thresholds[k − 1]: the cumulative probability of 1 … k, scaled to 2^53.
    private let thresholds: [UInt64]

    init(maximum: Int) {
        var weights: [Double] = []
        var total = 0.0
        for k in 1...maximum {
            let value = Double(k)
            let weight = 1 / (value * value * (value.squareRoot()).squareRoot())
            weights.append(weight)
            total += weight
        }
        var cumulative = 0.0
        thresholds = weights.map { weight in
            cumulative += weight
            return UInt64(Swift.min(cumulative / total, 1) * 9_007_199_254_740_992.0)
        }
    }

    /// One draw.
    func sample(_ random: inout SeededRandom) -> Int {
        let u = random.next() >> 11
        var low = 0
        var high = thresholds.count - 1
        while low < high {
            let middle = (low + high) / 2
            if u < thresholds[middle] { high = middle } else { low = middle + 1 }
        }
        return low + 1
    }
}
