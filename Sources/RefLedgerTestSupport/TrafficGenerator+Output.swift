import RefLedgerCore

/// Bytes of the line being written; shared between copies of a writer until one of them
/// starts a line (``FactWriter/reset()``), which then takes a copy of its own.
final class ByteStorage: @unchecked Sendable {
    // @unchecked: written only by the FactWriter that holds the sole reference (checked in reset()).
    private(set) var pointer: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 16)
        pointer = .allocate(capacity: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `needed` bytes, keeping the first `count`.
    func grow(to needed: Int, keeping count: Int) {
        let larger = Swift.max(needed, 2 * capacity)
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        fresh.update(from: pointer, count: count)
        pointer.deallocate()
        pointer = fresh
        capacity = larger
    }
}

/// Writes one fact as compact JSON straight into raw memory: no strings, no dictionaries,
/// no per-byte bounds or uniqueness checks.
struct FactWriter: Sendable {
    private var storage: ByteStorage
    /// Bytes written since the last ``reset()``.
    private(set) var count = 0
    private var needsComma = false
    /// The day number and "YYYY-MM-DD" of the last date written.
    private var cachedDay = Int64.min
    private var cachedDate: (UInt64, UInt16) = (0, 0)

    init(capacity: Int = 256) { storage = ByteStorage(capacity: capacity) }

    /// Starts a new line: forgets what was written, and unshares the storage.
    mutating func reset() {
        if !isKnownUniquelyReferenced(&storage) { storage = ByteStorage(capacity: storage.capacity) }
        count = 0
    }

    /// The bytes written.
    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: storage.pointer, count: count) }

    /// The bytes written, as an array.
    var bytes: [UInt8] { Array(buffer) }

    /// The bytes written from offset `start` on.
    func bytes(from start: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: storage.pointer + start, count: count - start))
    }

    /// Forgets the last `n` bytes written.
    mutating func removeLast(_ n: Int) { count -= n }

    @inline(__always) private mutating func reserve(_ n: Int) {
        if count + n > storage.capacity { storage.grow(to: count + n, keeping: count) }
    }

    @inline(__always) mutating func byte(_ value: UInt8) {
        reserve(1)
        storage.pointer[count] = value
        count += 1
    }

    mutating func raw(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (storage.pointer + count).update(from: base, count: bytes.count)
        count += bytes.count
    }

    mutating func raw(_ text: StaticString) { text.withUTF8Buffer { raw($0) } }

    mutating func raw(_ text: [UInt8]) { text.withUnsafeBufferPointer { raw($0) } }

    mutating func raw(_ text: ArraySlice<UInt8>) { text.withUnsafeBufferPointer { raw($0) } }

    mutating func begin() {
        byte(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func end() { byte(UInt8(ascii: "}")) }

    /// `,"key":` (no comma before the first member).
    mutating func key(_ name: StaticString) {
        name.withUTF8Buffer { text in
            reserve(text.count + 4)
            var out = storage.pointer + count
            if needsComma {
                out.pointee = UInt8(ascii: ",")
                out += 1
            }
            out.pointee = UInt8(ascii: "\"")
            (out + 1).update(from: text.baseAddress!, count: text.count)
            out += 1 + text.count
            out.pointee = UInt8(ascii: "\"")
            (out + 1).pointee = UInt8(ascii: ":")
            count = out + 2 - storage.pointer
        }
        needsComma = true
    }

    mutating func string(_ name: StaticString, _ value: StaticString) {
        key(name)
        byte(UInt8(ascii: "\""))
        raw(value)
        byte(UInt8(ascii: "\""))
    }

    mutating func string(_ name: StaticString, _ value: [UInt8]) {
        key(name)
        byte(UInt8(ascii: "\""))
        raw(value)
        byte(UInt8(ascii: "\""))
    }

    /// `"name":"<prefix><number>"` — the shape of every generated id and reference.
    mutating func id(_ name: StaticString, _ prefix: StaticString, _ number: Int64) {
        key(name)
        byte(UInt8(ascii: "\""))
        raw(prefix)
        decimal(number)
        byte(UInt8(ascii: "\""))
    }

    mutating func integer(_ name: StaticString, _ value: Int64) {
        key(name)
        decimal(value)
    }

    mutating func decimal(_ value: Int64) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var limit: UInt64 = 10
        while digits < 20, magnitude >= limit {
            digits += 1
            limit = limit &* 10
        }
        reserve(digits)
        var position = count + digits
        repeat {
            position -= 1
            storage.pointer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        count += digits
    }

    /// Code points packed big-endian into a `UInt64` (an assigned code), leading zeros skipped.
    mutating func packed(_ value: UInt64, lowercased: Bool = false) {
        for shift in stride(from: 56, through: 0, by: -8) {
            var symbol = UInt8(truncatingIfNeeded: value >> UInt64(shift))
            guard symbol != 0 else { continue }
            if lowercased, symbol >= UInt8(ascii: "A"), symbol <= UInt8(ascii: "Z") { symbol += 32 }
            byte(symbol)
        }
    }

    /// How a time is spelled; every style names the same instant.
    enum TimeStyle: Sendable {
        /// `2026-01-01T10:00:00.250Z` (fraction digits dropped where they are zeros).
        case utc
        /// `2026-01-01T11:00:00.250+01:00`: local time at an offset of this many minutes.
        case offset(Int64)
        /// `2026-01-01t10:00:00.250z`, which RFC 3339 allows.
        case lowercase
    }

    /// `"name":"<RFC 3339 time>"`; returns the range of the time's characters in the line.
    @discardableResult
    mutating func time(_ name: StaticString, _ millis: Int64, style: TimeStyle = .utc) -> Range<Int> {
        key(name)
        byte(UInt8(ascii: "\""))
        let start = count
        timestamp(millis, style: style)
        let end = count
        byte(UInt8(ascii: "\""))
        return start..<end
    }

    mutating func timestamp(_ millis: Int64, style: TimeStyle) {
        var offsetMinutes: Int64 = 0
        if case .offset(let minutes) = style { offsetMinutes = minutes }
        let local = millis + offsetMinutes * 60_000
        let fraction = ((local % 1000) + 1000) % 1000
        let seconds = (local - fraction) / 1000
        let secondOfDay = ((seconds % 86_400) + 86_400) % 86_400
        let day = (seconds - secondOfDay) / 86_400
        if day != cachedDay {
            cachedDay = day
            cachedDate = Self.date(day)
        }
        reserve(10)
        withUnsafeBytes(of: cachedDate.0) {
            raw(UnsafeBufferPointer(start: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 8))
        }
        withUnsafeBytes(of: cachedDate.1) {
            raw(UnsafeBufferPointer(start: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 2))
        }
        let lower = if case .lowercase = style { true } else { false }
        byte(lower ? UInt8(ascii: "t") : UInt8(ascii: "T"))
        twoDigits(secondOfDay / 3600)
        byte(UInt8(ascii: ":"))
        twoDigits(secondOfDay / 60 % 60)
        byte(UInt8(ascii: ":"))
        twoDigits(secondOfDay % 60)
        if fraction != 0 {
            byte(UInt8(ascii: "."))
            byte(UInt8(ascii: "0") + UInt8(fraction / 100))
            if fraction % 100 != 0 {
                byte(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
                if fraction % 10 != 0 { byte(UInt8(ascii: "0") + UInt8(fraction % 10)) }
            }
        }
        if offsetMinutes == 0 {
            byte(lower ? UInt8(ascii: "z") : UInt8(ascii: "Z"))
        } else {
            byte(offsetMinutes < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            twoDigits(offsetMinutes.magnitude / 60)
            byte(UInt8(ascii: ":"))
            twoDigits(offsetMinutes.magnitude % 60)
        }
    }

    private mutating func twoDigits<T: BinaryInteger>(_ value: T) {
        byte(UInt8(ascii: "0") + UInt8(value / 10))
        byte(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// "YYYY-MM-DD" of a day number since 1970-01-01 (`Timestamp.civilFromDays`), as its
    /// first 8 and last 2 bytes in memory order.
    private static func date(_ days: Int64) -> (UInt64, UInt16) {
        let civil = Timestamp.civilFromDays(Int(days))
        let (year, month, day) = (Int64(civil.year), Int64(civil.month), Int64(civil.day))
        let digits: [Int64] = [
            year / 1000 % 10, year / 100 % 10, year / 10 % 10, year % 10, -1, month / 10, month % 10, -1, day / 10,
            day % 10,
        ]
        let text = digits.map { $0 < 0 ? UInt8(ascii: "-") : UInt8(ascii: "0") + UInt8($0) }
        var first: UInt64 = 0
        var second: UInt16 = 0
        withUnsafeMutableBytes(of: &first) { $0.copyBytes(from: text[0..<8]) }
        withUnsafeMutableBytes(of: &second) { $0.copyBytes(from: text[8..<10]) }
        return (first, second)
    }
}
