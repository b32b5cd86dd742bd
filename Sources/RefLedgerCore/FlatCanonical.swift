/// Canonical JSON (RFC 8785) of flat objects, written straight from their bytes: the fast
/// way for the common fact, whose members are strings and integers.
///
/// A member written without escapes is already canonical byte for byte: a string without
/// `\` holds no character JCS would escape (JSON forbids raw control characters and `"`),
/// and a plain integer literal (digits, no leading zero) is how JCS writes that integer. So
/// such an object's canonical form is its members' bytes in key order. The parser notes
/// whether every member is plain (``JSONParser/parse(_:recordingMembersInto:)``); for
/// anything else — an escape, a nested value, another kind of number — the caller encodes
/// the parsed value (``CanonicalJSON``), which is always right.
enum FlatCanonical {
    /// Most members an object may have to be encoded here.
    static let maxMembers = 16

    /// The canonical bytes of the JSON object `raw` (valid JSON with unique ASCII keys), all
    /// of whose members are plain and at `members`, as
    /// ``JSONParser/parse(_:recordingMembersInto:)`` found them (sorted here, in place); the
    /// value of `time` is written as `time`.
    static func encode(_ raw: UnsafeRawBufferPointer, members: UnsafeMutableBufferPointer<Member>, time: String) -> [UInt8] {
        guard let base = raw.baseAddress else { preconditionFailure("a parsed object has bytes") }
        let bytes = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count)
        let count = members.count
        // Insertion sort by key bytes: ASCII keys, so byte order is UTF-16 order.
        for index in 1..<max(1, count) {
            let member = members[index]
            var slot = index
            while slot > 0, precedes(bytes, member.key, bytes, members[slot - 1].key) {
                members[slot] = members[slot - 1]
                slot -= 1
            }
            members[slot] = member
        }
        var time = time
        return time.withUTF8 { time in
            // Never longer than the input with `time` added: whitespace only goes.
            [UInt8](unsafeUninitializedCapacity: bytes.count + time.count + 4) { output, written in
                var cursor = 0
                func put(_ byte: UInt8) {
                    output[cursor] = byte
                    cursor += 1
                }
                func put(_ range: Range<Int>, of source: UnsafeBufferPointer<UInt8>) {
                    UnsafeMutableRawPointer(output.baseAddress! + cursor).copyMemory(
                        from: source.baseAddress! + range.lowerBound, byteCount: range.count)
                    cursor += range.count
                }
                put(UInt8(ascii: "{"))
                for position in 0..<count {
                    let member = members[position]
                    if position > 0 { put(UInt8(ascii: ",")) }
                    put((member.key.lowerBound - 1)..<(member.key.upperBound + 1), of: bytes)
                    put(UInt8(ascii: ":"))
                    if member.key.count == 4, equal(bytes, member.key, "time") {
                        put(UInt8(ascii: "\""))
                        put(0..<time.count, of: time)
                        put(UInt8(ascii: "\""))
                    } else {
                        put(member.value, of: bytes)
                    }
                }
                put(UInt8(ascii: "}"))
                written = cursor
            }
        }
    }

    /// `canonical` (from ``encode(_:members:time:)``) with `members` inserted in key order — a stored
    /// fact's body (`seq`, `recorded_at`, a signup's decisions); `nil` if it holds one of
    /// their keys already. The keys are the daemon's own: ASCII, nothing JSON escapes.
    static func inserting(_ members: [(key: String, value: JSONValue)], into canonical: [UInt8]) -> [UInt8]? {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: members.count) { order -> [UInt8]? in
            // The new members' indices in key order (insertion sort: a handful of them).
            for index in members.indices {
                assert(members[index].key.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C })
                var slot = index
                while slot > 0, CanonicalJSON.keyPrecedes(members[index].key, members[order[slot - 1]].key) {
                    order[slot] = order[slot - 1]
                    slot -= 1
                }
                order[slot] = index
            }
            return canonical.withUnsafeBufferPointer { bytes -> [UInt8]? in
                guard bytes.count >= 2 else { return nil }
                let end = bytes.count - 1  // the closing brace
                var output: [UInt8] = []
                output.reserveCapacity(bytes.count + 32 * members.count)
                output.append(UInt8(ascii: "{"))
                var next = 0  // the next new member to write, in `order`
                func writeNew() {
                    if output.count > 1 { output.append(UInt8(ascii: ",")) }
                    let member = members[order[next]]
                    CanonicalJSON.writeString(member.key, into: &output)
                    output.append(UInt8(ascii: ":"))
                    CanonicalJSON.write(member.value, into: &output)
                    next += 1
                }
                var position = 1
                // Members: `"key":value`, no escapes; values are strings or literals.
                while position < end, bytes[position] == UInt8(ascii: "\"") {
                    var keyEnd = position + 1
                    while keyEnd < end, bytes[keyEnd] != UInt8(ascii: "\"") { keyEnd += 1 }
                    let key = (position + 1)..<keyEnd
                    var valueEnd = keyEnd + 2
                    if valueEnd < end, bytes[valueEnd] == UInt8(ascii: "\"") {
                        valueEnd += 1
                        while valueEnd < end, bytes[valueEnd] != UInt8(ascii: "\"") { valueEnd += 1 }
                        valueEnd += 1
                    } else {
                        while valueEnd < end, bytes[valueEnd] != UInt8(ascii: ","), bytes[valueEnd] != UInt8(ascii: "}") {
                            valueEnd += 1
                        }
                    }
                    // New members that sort before this one go first; one with its key: not here.
                    while next < members.count {
                        let order = compare(members[order[next]].key, bytes, key)
                        if order == 0 { return nil }
                        guard order < 0 else { break }
                        writeNew()
                    }
                    if output.count > 1 { output.append(UInt8(ascii: ",")) }
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<valueEnd]))
                    position = valueEnd + 1
                }
                while next < members.count { writeNew() }
                output.append(UInt8(ascii: "}"))
                return output
            }
        }
    }

    /// Byte order of `key` and `bytes[range]`: negative, zero or positive.
    private static func compare(_ key: String, _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        var position = range.lowerBound
        for byte in key.utf8 {
            guard position < range.upperBound else { return 1 }
            if byte != bytes[position] { return Int(byte) - Int(bytes[position]) }
            position += 1
        }
        return position < range.upperBound ? -1 : 0
    }

    /// A member's key (inside its quotes) and value (whole, quotes included), as byte ranges.
    struct Member {
        var key: Range<Int>
        var value: Range<Int>
    }

    /// Byte order of `a[x]` and `b[y]`: negative, zero or positive.
    private static func compare(
        _ a: UnsafeBufferPointer<UInt8>, _ x: Range<Int>, _ b: UnsafeBufferPointer<UInt8>, _ y: Range<Int>
    ) -> Int {
        let common = min(x.count, y.count)
        for offset in 0..<common where a[x.lowerBound + offset] != b[y.lowerBound + offset] {
            return Int(a[x.lowerBound + offset]) - Int(b[y.lowerBound + offset])
        }
        return x.count - y.count
    }

    private static func precedes(
        _ a: UnsafeBufferPointer<UInt8>, _ x: Range<Int>, _ b: UnsafeBufferPointer<UInt8>, _ y: Range<Int>
    ) -> Bool {
        compare(a, x, b, y) < 0
    }

    /// Byte order of `bytes[range]` and `text`.
    private static func compare(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ text: StaticString) -> Int {
        let other = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        return compare(bytes, range, other, 0..<other.count)
    }

    private static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ text: StaticString) -> Bool {
        compare(bytes, range, text) == 0
    }
}
