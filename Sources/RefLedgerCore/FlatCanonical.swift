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
    static func encode(
        _ raw: UnsafeRawBufferPointer,
        members: UnsafeMutableBufferPointer<Member>,
        time: String
    ) -> [UInt8] {
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
                        from: source.baseAddress! + range.lowerBound,
                        byteCount: range.count
                    )
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
    static func inserting(
        _ members: UnsafeBufferPointer<(key: String, value: JSONValue)>,
        into canonical: [UInt8]
    ) -> [UInt8]? {
        guard canonical.count >= 2 else { return nil }
        let count = members.count
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { order -> [UInt8]? in
            // The new members' indices in key order (insertion sort: a handful of them).
            for index in 0..<count {
                assert(members[index].key.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C })
                var slot = index
                while slot > 0, CanonicalJSON.keyPrecedes(members[index].key, members[order[slot - 1]].key) {
                    order[slot] = order[slot - 1]
                    slot -= 1
                }
                order[slot] = index
            }
            return withUnsafeTemporaryAllocation(of: (key: Range<Int>, member: Range<Int>).self, capacity: count) {
                spans -> [UInt8]? in
                // One array for all: room for the merged object less the new members' bytes,
                // then the new members written once, in key order (`"key":value`), after it.
                // The merge walks forward and never reaches bytes it has still to read.
                let room = canonical.count + count
                var output: [UInt8] = []
                output.reserveCapacity(room + 48 * count)
                output.append(contentsOf: repeatElement(0, count: room))
                for position in 0..<count {
                    let member = members[order[position]]
                    let start = output.count
                    CanonicalJSON.writeString(member.key, into: &output)
                    let keyEnd = output.count - 1
                    output.append(UInt8(ascii: ":"))
                    CanonicalJSON.write(member.value, into: &output)
                    spans[position] = (key: (start + 1)..<keyEnd, member: start..<output.count)
                }
                let length = canonical.withUnsafeBufferPointer { bytes in
                    output.withUnsafeMutableBufferPointer { output in
                        merge(bytes, into: output, at: UnsafeBufferPointer(spans))
                    }
                }
                guard let length else { return nil }
                output.removeLast(output.count - length)
                return output
            }
        }
    }

    /// Writes the object `bytes` (canonical, plain members) to the start of `output` with the
    /// members at `output[spans[i].member]` (sorted by key, after the room for the merged
    /// object) merged in by key, and returns its length; `nil` if one of their keys is there
    /// already.
    private static func merge(
        _ bytes: UnsafeBufferPointer<UInt8>,
        into output: UnsafeMutableBufferPointer<UInt8>,
        at spans: UnsafeBufferPointer<(key: Range<Int>, member: Range<Int>)>
    ) -> Int? {
        let end = bytes.count - 1  // the closing brace
        let added = UnsafeBufferPointer(output)
        var cursor = 0
        func copy(_ source: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
            // A new member may move onto bytes of its own: `copyMemory` allows the overlap.
            UnsafeMutableRawPointer(output.baseAddress! + cursor).copyMemory(
                from: source.baseAddress! + range.lowerBound,
                byteCount: range.count
            )
            cursor += range.count
        }
        func put(_ byte: UInt8) {
            output[cursor] = byte
            cursor += 1
        }
        put(UInt8(ascii: "{"))
        var next = 0  // the next new member to write
        var copied = 1  // bytes of the object written up to here
        var position = 1
        // Members: `"key":value`, no escapes; values are strings or integers.
        while position < end, bytes[position] == UInt8(ascii: "\"") {
            let keyEnd = quote(in: bytes, from: position + 1, before: end)
            var valueEnd = keyEnd + 2
            if valueEnd < end, bytes[valueEnd] == UInt8(ascii: "\"") {
                valueEnd = quote(in: bytes, from: valueEnd + 1, before: end) + 1
            } else {
                while valueEnd < end, bytes[valueEnd] != UInt8(ascii: ","), bytes[valueEnd] != UInt8(ascii: "}") {
                    valueEnd += 1
                }
            }
            // New members that sort before this one go here, before the bytes from `position`.
            while next < spans.count {
                let order = compare(added, spans[next].key, bytes, (position + 1)..<keyEnd)
                if order == 0 { return nil }
                guard order < 0 else { break }
                copy(bytes, copied..<position)
                copied = position
                copy(added, spans[next].member)
                put(UInt8(ascii: ","))
                next += 1
            }
            position = valueEnd + 1
        }
        // The rest of the object, then the new members that sort last.
        copy(bytes, copied..<end)
        while next < spans.count {
            if cursor > 1 { put(UInt8(ascii: ",")) }
            copy(added, spans[next].member)
            next += 1
        }
        put(UInt8(ascii: "}"))
        return cursor
    }

    /// The index of the first `"` in `bytes[start..<end]`, or `end`; eight bytes a step.
    private static func quote(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, before end: Int) -> Int {
        let base = UnsafeRawPointer(bytes.baseAddress!)
        var index = start
        while index + 8 <= end {
            let quotes = ByteWords.equal(ByteWords.load(base, at: index), UInt8(ascii: "\""))
            if quotes != 0 { return index + ByteWords.firstFlagged(quotes) }
            index += 8
        }
        while index < end, bytes[index] != UInt8(ascii: "\"") { index += 1 }
        return index
    }

    /// A member's key (inside its quotes) and value (whole, quotes included), as byte ranges.
    struct Member {
        var key: Range<Int>
        var value: Range<Int>
    }

    /// Byte order of `a[x]` and `b[y]`: negative, zero or positive.
    private static func compare(
        _ a: UnsafeBufferPointer<UInt8>,
        _ x: Range<Int>,
        _ b: UnsafeBufferPointer<UInt8>,
        _ y: Range<Int>
    ) -> Int {
        let common = min(x.count, y.count)
        for offset in 0..<common where a[x.lowerBound + offset] != b[y.lowerBound + offset] {
            return Int(a[x.lowerBound + offset]) - Int(b[y.lowerBound + offset])
        }
        return x.count - y.count
    }

    private static func precedes(
        _ a: UnsafeBufferPointer<UInt8>,
        _ x: Range<Int>,
        _ b: UnsafeBufferPointer<UInt8>,
        _ y: Range<Int>
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
