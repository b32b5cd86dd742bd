/// A sorted multiset of integers with insertion in O(√n) and rank selection in O(√n):
/// sorted buckets of bounded size, split when full.
public struct OrderStatistics: Sendable, Hashable {
    private static let bucketCapacity = 512
    private var buckets: [[Int64]] = []
    /// Number of values held.
    public private(set) var count = 0

    public init() {}

    /// Adds `value`.
    public mutating func insert(_ value: Int64) {
        count += 1
        guard !buckets.isEmpty else {
            buckets = [[value]]
            return
        }
        // The first bucket whose last value is ≥ value, else the last bucket.
        var low = 0
        var high = buckets.count - 1
        while low < high {
            let middle = (low + high) / 2
            if buckets[middle].last! >= value { high = middle } else { low = middle + 1 }
        }
        let index = low
        let position = Self.insertionPoint(of: value, in: buckets[index])
        buckets[index].insert(value, at: position)
        if buckets[index].count > Self.bucketCapacity {
            let upper = Array(buckets[index][(Self.bucketCapacity / 2)...])
            buckets[index].removeLast(upper.count)
            buckets.insert(upper, at: index + 1)
        }
    }

    private static func insertionPoint(of value: Int64, in bucket: [Int64]) -> Int {
        var low = 0
        var high = bucket.count
        while low < high {
            let middle = (low + high) / 2
            if bucket[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The value at 1-based `rank` of the ascending order.
    public func value(atRank rank: Int) -> Int64? {
        guard rank >= 1, rank <= count else { return nil }
        var remaining = rank
        for bucket in buckets {
            if remaining <= bucket.count { return bucket[remaining - 1] }
            remaining -= bucket.count
        }
        return nil
    }

    /// Nearest-rank percentile: the value at rank ⌈p × n⌉, `p` given as `numerator/denominator`.
    public func percentile(numerator: Int, denominator: Int) -> Int64? {
        guard count > 0 else { return nil }
        let rank = max(1, (numerator * count + denominator - 1) / denominator)
        return value(atRank: rank)
    }
}

extension OrderStatistics {
    /// Writes the buckets as they are, so that a decoded copy is equal to this one.
    func encode(into encoder: inout SnapshotEncoder) {
        encoder.count(buckets.count)
        for bucket in buckets {
            encoder.count(bucket.count)
            for value in bucket { encoder.signed(value) }
        }
    }

    /// Reads what ``encode(into:)`` wrote; buckets must be non-empty, within capacity, and
    /// hold the values in ascending order across all of them.
    init(from decoder: inout SnapshotDecoder) throws(Ledger.SnapshotError) {
        self.init()
        let bucketCount = try decoder.count(minimumBytes: 2)
        buckets.reserveCapacity(bucketCount)
        var last = Int64.min
        for _ in 0..<bucketCount {
            let size = try decoder.count()
            guard (1...Self.bucketCapacity).contains(size) else { throw decoder.damage("bucket of \(size) values") }
            var bucket: [Int64] = []
            bucket.reserveCapacity(size)
            for _ in 0..<size {
                let value = try decoder.signed()
                guard value >= last else { throw decoder.damage("order statistics out of order") }
                last = value
                bucket.append(value)
            }
            buckets.append(bucket)
            count += size
        }
    }
}
