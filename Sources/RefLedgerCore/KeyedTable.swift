import CPrefetch

/// Values by string key, kept in the order their keys were added and found through a
/// ``PositionIndex``: what the ledger's large maps (participants by id, code owners by code,
/// clicks by visitor, orders, payouts) and the writer's idempotency tables (the facts of a
/// batch by id, the ids looked up ahead) are, in place of `[String: Value]`. Keys are never
/// removed.
///
/// The order of adding is no answer's order: what must be ordered (snapshots, leaderboards,
/// id lists) sorts by key.
public struct KeyedTable<Value: Sendable>: Sendable, Sequence {
    /// The keys, by position.
    public private(set) var keys = ChunkedArray<String>()
    /// The values, by position.
    public private(set) var values = ChunkedArray<Value>()
    private var index = PositionIndex()

    public init() {}

    public var count: Int { keys.count }

    /// The value at `position`, read or changed in place.
    public subscript(at position: Int) -> Value {
        _read { yield values[position] }
        _modify { yield &values[position] }
    }

    /// Runs `body` on the value at `position`, in place (see ``ChunkedArray/update(at:_:)``).
    public mutating func update<Result, Failure: Error>(
        at position: Int,
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try values.update(at: position, body)
    }

    /// Where the value of `key` is, if the table has the key.
    public func position(of key: String) -> Int? { index.position(of: key, in: keys) }

    /// The value of `key`, if any.
    public subscript(key: String) -> Value? { position(of: key).map { values[$0] } }

    /// The hash a look-up of `key` starts from, for ``prefetch(hash:)``.
    public static func hash(_ key: String) -> UInt32 { PositionIndex.hash(key) }

    /// Where the index slot a look-up of the key with this ``hash(_:)`` starts from is: an
    /// address to give ``prefetchCacheLine(_:)``, never to read (it is only valid until the
    /// table changes). Prefetched a little ahead, the look-up does not wait on memory for it
    /// (see ``Ledger/prefetch(_:)``).
    @inline(__always) public func slotAddress(hash: UInt32) -> UnsafeRawPointer { index.slotAddress(hash: hash) }

    /// Adds `value` under `key` unless the table has the key: its position, or nil when the
    /// key was there (and nothing changed). One look-up of the key for both.
    public mutating func addIfAbsent(_ value: Value, forKey key: String) -> Int? {
        let (position, added) = findOrAdd(key) { value }
        return added ? position : nil
    }

    /// The position of `key`'s value, added as `makeValue()` first when the key is new. One
    /// look-up of the key for both.
    public mutating func position(addingIfAbsent key: String, _ makeValue: () -> Value) -> Int {
        findOrAdd(key, makeValue).position
    }

    private mutating func findOrAdd(_ key: String, _ makeValue: () -> Value) -> (position: Int, added: Bool) {
        if let position = index.insertIfAbsent(key, at: keys.count, in: keys) { return (position, false) }
        keys.append(key)
        values.append(makeValue())
        return (keys.count - 1, true)
    }

    public mutating func reserveCapacity(_ capacity: Int) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
        index.reserveCapacity(capacity)
    }

    /// Copies now what this table shares with a copy of it and would copy whole at its first
    /// change: its index (see ``Ledger/detach()``). Its keys and values are not copied here: a
    /// change copies only the chunk it changes (``ChunkedArray``), a few microseconds.
    public mutating func detach() { index.detach() }

    /// The entries, in the order their keys were added.
    public func makeIterator() -> some IteratorProtocol<(key: String, value: Value)> {
        zip(keys, values).lazy.map { (key: $0, value: $1) }.makeIterator()
    }
}

/// Asks the CPU to start loading the cache line at `address` into its caches, without waiting
/// for it: a hint, which never faults and changes nothing visible.
///
/// Call it with addresses found beforehand, not while reading a value: a call the compiler
/// cannot see into, made while a value is borrowed from memory, makes it copy the value first.
public func prefetchCacheLine(_ address: UnsafeRawPointer) { refledger_prefetch(address) }

/// Finds the position of an id in an array of distinct ids: an open-addressing hash table of
/// 8-byte slots, each a 32-bit hash of an id beside its position.
///
/// It stands in for a `[String: Int]` from id to position, which costs more where a ledger
/// spends its time: a `Dictionary` hashes a key with SipHash and, at every growth, hashes
/// every key again and moves keys and values to random places in fresh memory. Here a slot
/// holds what finding needs besides the id itself, the ids stay where they are (in the
/// caller's array, by position), and growth re-places slots by the hashes they hold, reading
/// no id. Measured on 300k ids of ~20 bytes: an insert took ~120 ns against ~460 ns for the
/// dictionary (~250 ns with all its capacity reserved up front); a look-up, bound by cache
/// misses, about the same.
///
/// The hash is keyed with a seed drawn once a process (as Swift's own hashing is), so ids that
/// clients choose cannot be picked to collide. It never leaves the process: snapshots and
/// answers order by id, never by slot.
struct PositionIndex: Sendable {
    /// Each slot: `0` when empty, else the id's hash in the high 32 bits and its position + 1
    /// in the low 32. A power of two long, at most half full.
    private var slots: [UInt64] = Array(repeating: 0, count: 16)
    private var count = 0

    private static let seed = UInt64.random(in: 1...UInt64.max)

    /// The position of `id`, if `ids` has it there (`ids` is the array this index is of).
    func position(of id: String, in ids: ChunkedArray<String>) -> Int? { probe(id, Self.hash(id), in: ids).found }

    /// Where the slot a probe for an id with this hash begins at is: in a large index the
    /// probe's first load is a cache miss, most of what finding an id costs, and prefetching
    /// this address ahead hides it. Only loads: no call happens while the index is read, so
    /// the compiler need not copy what holds it (a C call would make it).
    @inline(__always) func slotAddress(hash: UInt32) -> UnsafeRawPointer {
        slots.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress! + (Int(hash) & ($0.count - 1))) }
    }

    /// Indexes `id` at `position` unless `ids` already has it: nil when it was indexed, else
    /// the position `id` already has (and nothing changed). `position` is where the caller
    /// puts `id` next (`ids.count`).
    mutating func insertIfAbsent(_ id: String, at position: Int, in ids: ChunkedArray<String>) -> Int? {
        precondition(position < Int(UInt32.max), "a program holds fewer than 2^32 participants")
        let hash = Self.hash(id)
        let (found, empty) = probe(id, hash, in: ids)
        if let found { return found }
        slots[empty] = UInt64(hash) << 32 | UInt64(position + 1)
        count += 1
        if count * 2 > slots.count { resize(to: slots.count * 2) }
        return nil
    }

    /// Walks the slots from `hash`'s place: the position of `id` when a slot holds it, else
    /// the empty slot where it would go.
    private func probe(_ id: String, _ hash: UInt32, in ids: ChunkedArray<String>) -> (found: Int?, empty: Int) {
        let mask = slots.count - 1
        var index = Int(hash) & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return (nil, index) }
            if UInt32(truncatingIfNeeded: slot >> 32) == hash {
                let position = Int(UInt32(truncatingIfNeeded: slot)) - 1
                if ids[position] == id { return (position, index) }
            }
            index = (index + 1) & mask
        }
    }

    /// Makes room for `capacity` ids without growing.
    mutating func reserveCapacity(_ capacity: Int) {
        var size = slots.count
        while capacity * 2 > size { size *= 2 }
        if size > slots.count { resize(to: size) }
    }

    /// Gives this index storage of its own now, rather than at its first change.
    mutating func detach() { slots.reserveCapacity(slots.count) }

    /// Re-places every slot in a table of `size` slots, by the hash each holds.
    private mutating func resize(to size: Int) {
        var grown = [UInt64](repeating: 0, count: size)
        let mask = size - 1
        for slot in slots where slot != 0 {
            var index = Int(slot >> 32) & mask
            while grown[index] != 0 { index = (index + 1) & mask }
            grown[index] = slot
        }
        slots = grown
    }

    /// A 32-bit hash of the id's UTF-8 bytes, keyed with the process's seed: 8 bytes at a time
    /// folded by 64×64→128-bit multiplies (the wyhash construction).
    static func hash(_ id: String) -> UInt32 {
        let folded =
            id.utf8.withContiguousStorageIfAvailable { bytes in hash(UnsafeRawBufferPointer(bytes)) }
            ?? Array(id.utf8).withUnsafeBytes { hash($0) }
        return UInt32(truncatingIfNeeded: folded >> 32)
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state = seed ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            state = mix(state ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self), 0x9E37_79B9_7F4A_7C15)
            offset += 8
        }
        if offset < bytes.count {
            // The last 1–7 bytes, little-endian: in a key of 8 bytes or more, the last word shifted
            // down (its first bytes were hashed already), else byte by byte.
            let rest = bytes.count - offset
            var tail: UInt64 = 0
            if bytes.count >= 8 {
                tail = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self) &>> UInt64(64 - 8 * rest)
            } else {
                for index in 0..<rest { tail |= UInt64(bytes[offset + index]) &<< UInt64(8 * index) }
            }
            state = mix(state ^ tail, 0xA076_1D64_78BD_642F)
        }
        return mix(state, 0xE703_7ED1_A0B4_28DB)
    }

    @inline(__always) private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }
}
