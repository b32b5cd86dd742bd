/// An enum written in a snapshot as a one-byte tag: its index in `snapshotCases`. The list is
/// part of the format: new cases go at its end, and it is never reordered.
protocol SnapshotTagged: Equatable {
    static var snapshotCases: [Self] { get }
}

/// The byte primitives of a ledger snapshot (``Ledger/snapshotBytes(fork:)``): unsigned LEB128
/// varints, zigzag varints for signed values, strings as a varint byte count and their UTF-8.
struct SnapshotEncoder {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func unsigned(_ value: UInt64) { varint(value) }

    /// `value` as an unsigned LEB128 varint: seven bits a byte, lowest first.
    private mutating func varint<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func count(_ value: Int) { unsigned(UInt64(value)) }

    mutating func signed(_ value: Int64) { unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    /// A sum of money (``Money``), zigzag like ``signed(_:)``: a value that fits 64 bits is
    /// written as the same bytes.
    mutating func money(_ value: Money) { varint(UInt128(bitPattern: (value << 1) ^ (value >> 127))) }

    mutating func time(_ time: Timestamp) { signed(time.millisecondsSinceEpoch) }

    mutating func string(_ text: String) {
        count(text.utf8.count)
        bytes.append(contentsOf: text.utf8)
    }

    /// `nil` as 0, else the byte count + 1 and the UTF-8.
    mutating func optionalString(_ text: String?) {
        guard let text else { return unsigned(0) }
        unsigned(UInt64(text.utf8.count) + 1)
        bytes.append(contentsOf: text.utf8)
    }

    /// `nil` as 0, else 1 and the time.
    mutating func optionalTime(_ time: Timestamp?) {
        guard let time else { return byte(0) }
        byte(1)
        self.time(time)
    }

    /// A reference to the element at `index` of a table, or none: `index + 1`, 0 for none.
    mutating func reference(_ index: Int?) { count(index.map { $0 + 1 } ?? 0) }

    mutating func tag<Value: SnapshotTagged>(_ value: Value) {
        byte(UInt8(Value.snapshotCases.firstIndex(of: value)!))
    }

    /// A section: its byte count, then its bytes (so that a reader can find where the next
    /// one starts without reading it, and read sections at the same time; a writer writes
    /// them apart, also at the same time).
    mutating func section(bytes section: [UInt8]) {
        count(section.count)
        bytes.append(contentsOf: section)
    }

    /// A map: its count, then each key and what `value` writes of its value, in ascending key
    /// order (so that equal maps give equal bytes).
    mutating func map<Value>(
        _ map: some Sequence<(key: String, value: Value)>,
        _ value: (inout SnapshotEncoder, Value) -> Void
    ) {
        let entries = map.sorted(by: { $0.key < $1.key })
        count(entries.count)
        for (key, element) in entries {
            string(key)
            value(&self, element)
        }
    }
}

/// Reads what ``SnapshotEncoder`` wrote, checking every step: running out of bytes, a varint
/// over 64 bits, a count larger than the bytes left could hold, invalid UTF-8 — each is a
/// thrown ``Ledger/SnapshotError`` naming the offset, never a trap.
///
/// It reads `bytes` from `offset` up to `end`: the whole snapshot, or one section of it
/// (``section()``), with offsets always counted from the start of the snapshot.
struct SnapshotDecoder {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    /// Where this decoder's bytes end.
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer) { self.init(bytes, range: 0..<bytes.count) }

    /// A decoder of `range` of `bytes` (a section).
    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        self.bytes = bytes
        offset = range.lowerBound
        end = range.upperBound
    }

    var isAtEnd: Bool { offset == end }

    /// The range of a section written by ``SnapshotEncoder/section(bytes:)``, which is skipped.
    mutating func section() throws(Ledger.SnapshotError) -> Range<Int> {
        let length = try count()
        defer { offset += length }
        return offset..<offset + length
    }

    /// Throws unless the section (or the snapshot) was read to its last byte.
    func expectEnd(of what: String) throws(Ledger.SnapshotError) {
        guard isAtEnd else { throw damage("\(end - offset) bytes after the end of \(what)") }
    }

    func damage(_ reason: String) -> Ledger.SnapshotError { Ledger.SnapshotError(offset: offset, reason: reason) }

    @inline(__always)
    mutating func byte() throws(Ledger.SnapshotError) -> UInt8 {
        guard offset < end else { throw damage("truncated") }
        offset += 1
        return bytes[offset - 1]
    }

    @inline(__always)
    mutating func unsigned() throws(Ledger.SnapshotError) -> UInt64 {
        if offset < end, bytes[offset] < 0x80 {
            offset += 1
            return UInt64(bytes[offset - 1])
        }
        return try varint(UInt64.self)
    }

    /// An unsigned LEB128 varint of at most `Value.bitWidth` bits.
    @inline(__always)
    private mutating func varint<Value: FixedWidthInteger & UnsignedInteger>(
        _: Value.Type
    )
        throws(Ledger.SnapshotError) -> Value
    {
        var result: Value = 0
        var shift = 0
        while true {
            guard offset < end else { throw damage("truncated inside a varint") }
            let byte = bytes[offset]
            offset += 1
            // The last byte that fits holds only the top `bitWidth % 7` bits.
            if shift == Value.bitWidth / 7 * 7, byte >= 1 << (Value.bitWidth % 7) {
                throw damage("varint over \(Value.bitWidth) bits")
            }
            result |= Value(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A count of things each at least `minimumBytes` long, so never more than the bytes left
    /// could hold (a damaged count cannot make the reader allocate without bound).
    @inline(__always)
    mutating func count(minimumBytes: Int = 1) throws(Ledger.SnapshotError) -> Int {
        let value = try unsigned()
        guard value <= UInt64((end - offset) / max(1, minimumBytes)) else {
            throw damage("count \(value) exceeds the \(end - offset) bytes left")
        }
        return Int(value)
    }

    @inline(__always)
    mutating func signed() throws(Ledger.SnapshotError) -> Int64 {
        let value = try unsigned()
        return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    /// A signed value that must not be negative (amounts, counters).
    mutating func nonNegative() throws(Ledger.SnapshotError) -> Int64 {
        let value = try signed()
        guard value >= 0 else { throw damage("negative value \(value) where none can be") }
        return value
    }

    /// A sum of money (``SnapshotEncoder/money(_:)``), up to 128 bits.
    mutating func money() throws(Ledger.SnapshotError) -> Money {
        let zigzag = try varint(UInt128.self)
        return Money(bitPattern: zigzag >> 1) ^ -Money(bitPattern: zigzag & 1)
    }

    /// A sum of money that must not be negative.
    mutating func nonNegativeMoney() throws(Ledger.SnapshotError) -> Money {
        let value = try money()
        guard value >= 0 else { throw damage("negative value \(value) where none can be") }
        return value
    }

    /// A time from year 0 to year 9999 plus the longest hold (an `available_at`).
    mutating func time() throws(Ledger.SnapshotError) -> Timestamp {
        let millis = try signed()
        guard millis >= Timestamp.earliest.millisecondsSinceEpoch, millis <= Self.latestMillis else {
            throw damage("time \(millis) ms out of range")
        }
        return Timestamp(millisecondsSinceEpoch: millis)
    }

    private static let latestMillis = Timestamp.latest.millisecondsSinceEpoch + 3651 * 86_400_000

    /// An amount of money: 0 … 2^53 − 1, as facts allow.
    mutating func amount() throws(Ledger.SnapshotError) -> Int64 { try integer(in: 0...JSONValue.maxInteger) }

    /// A signed value within `range` (a rule's bounds).
    mutating func integer(in range: ClosedRange<Int64>) throws(Ledger.SnapshotError) -> Int64 {
        let value = try signed()
        guard range.contains(value) else { throw damage("value \(value) outside \(range)") }
        return value
    }

    mutating func string() throws(Ledger.SnapshotError) -> String {
        try utf8(count: try count())
    }

    mutating func optionalString() throws(Ledger.SnapshotError) -> String? {
        let tag = try unsigned()
        guard tag > 0 else { return nil }
        guard tag - 1 <= UInt64(end - offset) else { throw damage("string runs past the end") }
        return try utf8(count: Int(tag - 1))
    }

    private mutating func utf8(count: Int) throws(Ledger.SnapshotError) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        let text: String?
        if slice.allSatisfy({ $0 < 0x80 }) {
            // ASCII (every id and code the contract allows): valid as it is, and the fast path.
            text = slice.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
        } else {
            text = String(validating: slice, as: UTF8.self)
        }
        guard let text else { throw damage("invalid UTF-8") }
        offset += count
        return text
    }

    mutating func optionalTime() throws(Ledger.SnapshotError) -> Timestamp? {
        switch try byte() {
        case 0: return nil
        case 1: return try time()
        case let tag: throw damage("optional time with tag \(tag)")
        }
    }

    /// A reference written by ``SnapshotEncoder/reference(_:)`` into a table of `count`
    /// elements: its index, or `nil` for none.
    @inline(__always)
    mutating func reference(into count: Int) throws(Ledger.SnapshotError) -> Int? {
        let value = try unsigned()
        guard value > 0 else { return nil }
        guard value <= UInt64(count) else { throw damage("reference \(value) into a table of \(count)") }
        return Int(value - 1)
    }

    /// A reference that must be present.
    mutating func requiredReference(into count: Int) throws(Ledger.SnapshotError) -> Int {
        guard let index = try reference(into: count) else { throw damage("missing reference") }
        return index
    }

    mutating func tag<Value: SnapshotTagged>(_: Value.Type) throws(Ledger.SnapshotError) -> Value {
        let tag = try byte()
        guard tag < Value.snapshotCases.count else { throw damage("\(Value.self) with tag \(tag)") }
        return Value.snapshotCases[Int(tag)]
    }

    /// A map that ``SnapshotEncoder/map(_:_:)`` wrote, each entry at least `minimumEntryBytes`
    /// long; `value` reads one value, given its key.
    mutating func map<Value>(
        minimumEntryBytes: Int,
        _ value: (inout SnapshotDecoder, String) throws(Ledger.SnapshotError) -> Value
    ) throws(Ledger.SnapshotError) -> KeyedTable<Value> {
        let count = try count(minimumBytes: minimumEntryBytes)
        var result = KeyedTable<Value>()
        result.reserveCapacity(count)
        var previous: String?
        for _ in 0..<count {
            let key = try string()
            try expectAscending(key, after: previous)
            previous = key
            // New: keys come strictly ascending.
            _ = result.addIfAbsent(try value(&self, key), forKey: key)
        }
        return result
    }

    /// Keys must come strictly ascending (the encoder sorts them): a duplicate or misplaced key
    /// is damage.
    func expectAscending(_ key: String, after previous: String?) throws(Ledger.SnapshotError) {
        if let previous, !(previous < key) { throw damage("key \(key) out of order after \(previous)") }
    }
}
