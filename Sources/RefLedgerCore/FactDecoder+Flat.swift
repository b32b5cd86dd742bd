/// The fast path of ``FactDecoder``: the common fact — a flat object of plain strings and
/// integers, every member known and valid — decoded in one pass over its bytes.
///
/// The general path parses a JSON tree, then looks each field up in it by name and checks
/// it. Here each member is matched to its field (``FactField``) while it is read, and its
/// value is checked on its bytes against the same rules. The fast path only ever *accepts*: at the first
/// thing it does not expect — an escape, a byte outside printable ASCII, a nested value, a
/// number that is not a plain integer, an unknown, repeated or missing field, a value its
/// field refuses, a `program` fact, a time too far ahead — it returns `nil`, and the general
/// path decides, with the error it would give anyway. So the two paths can differ only in
/// speed; a test holds every decoded fact of generated streams to that.
enum FlatFactDecoder {
    /// Which fields each fact type allows and requires (a bit per ``FactField``), indexed like
    /// `FactType.allCases`; from the same field lists the general path checks against.
    static let masks: [(allowed: UInt32, required: UInt32)] = FactDecoder.allowedFields.map { specs in
        var masks: (allowed: UInt32, required: UInt32) = (0, 0)
        for spec in specs {
            // A program's `rules` is no flat field: such a type allows nothing here.
            guard let field = FactField.allCases.first(where: { $0.name == spec.name }) else { return (0, 0) }
            masks.allowed |= field.bit
            if spec.required { masks.required |= field.bit }
        }
        return masks
    }

    /// Decodes the fact in `raw`, or returns `nil` when the general path must.
    ///
    /// `records` (at least ``FlatCanonical/maxMembers`` long) receives the members' byte
    /// ranges for the canonical form.
    static func decode(
        _ raw: UnsafeRawBufferPointer,
        now: Timestamp,
        records: UnsafeMutableBufferPointer<FlatCanonical.Member>
    ) -> Fact? {
        guard let base = raw.baseAddress else { return nil }
        var scanner = Scanner(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count))
        // The members side by side in a temporary buffer, not an array of their own.
        return withUnsafeTemporaryAllocation(of: Member.self, capacity: records.count) { slots in
            var count = 0
            defer { if count > 0 { _ = slots.baseAddress!.deinitialize(count: count) } }
            guard scanner.object(records: records, into: slots, count: &count) else { return nil }
            return decode(
                raw,
                members: UnsafeBufferPointer(rebasing: slots[..<count]),
                scanner: scanner,
                now: now,
                records: records
            )
        }
    }

    /// Decodes the fact whose `members` were scanned, or returns `nil` when the general path must.
    private static func decode(
        _ raw: UnsafeRawBufferPointer,
        members: UnsafeBufferPointer<Member>,
        scanner: Scanner,
        now: Timestamp,
        records: UnsafeMutableBufferPointer<FlatCanonical.Member>
    ) -> Fact? {
        let present = members.reduce(0 as UInt32) { $0 | $1.field.bit }
        func text(_ field: FactField) -> String? {
            for index in members.indices where members[index].field == field { return members[index].text }
            return nil
        }

        guard let typeName = text(.type), let type = FactType.named(typeName), type != .program else { return nil }
        let masks = masks[type.index]
        guard present & ~masks.allowed == 0, present & masks.required == masks.required else { return nil }
        for index in members.indices {
            let field = members[index].field
            let isText = members[index].text != nil
            switch field {
            case .type, .time: continue
            case .amount: guard !isText, members[index].integer >= 1 else { return nil }
            case .channel: guard isText, Channel(rawValue: members[index].text!) != nil else { return nil }
            default: guard isText, field.rule!.allows(scanner.bytes(members[index].contents)) else { return nil }
            }
        }

        // The time, parsed from its bytes, and written the normalized way when it was not.
        guard let timePlace = members.firstIndex(where: { $0.field == .time }),
            var timeText = members[timePlace].text,
            let time = Timestamp.parse(rfc3339: scanner.bytes(members[timePlace].contents)),
            time.millisecondsSinceEpoch <= now.millisecondsSinceEpoch + FactDecoder.maxFutureMilliseconds
        else { return nil }
        var clientMembers = members.map { (key: $0.field.name, value: $0.value) }
        if !FactDecoder.isNormalized(timeText) {
            timeText = time.description
            clientMembers[timePlace].value = .string(timeText)
        }

        let payload = FactPayload.read(
            type,
            text: text,
            channel: { text(.channel).flatMap(Channel.init) },
            amount: { members.first(where: { $0.field == .amount })?.integer }
        )
        var fact = Fact(
            id: text(.id)!,
            type: type,
            program: text(.program)!,
            time: time,
            payload: payload,
            clientFields: JSONObject(uniqueMembers: clientMembers)
        )
        fact.canonicalClient = FlatCanonical.encode(
            raw,
            members: UnsafeMutableBufferPointer(rebasing: records[..<members.count]),
            time: timeText
        )
        return fact
    }

    /// One member as scanned: its field, its value (a string or an integer), and where the
    /// value's contents are.
    struct Member {
        var field: FactField
        var text: String?
        var integer: Int64
        /// A string's bytes between the quotes; an integer's digits.
        var contents: Range<Int>

        var value: JSONValue { text.map(JSONValue.string) ?? .integer(integer) }
    }

    /// Reads a flat object's members; `nil` at anything else.
    struct Scanner {
        let input: UnsafeBufferPointer<UInt8>
        var position = 0

        init(_ input: UnsafeBufferPointer<UInt8>) { self.input = input }

        func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: input[range]) }

        /// Reads the members of the object that is the whole input into `members` (`count` of
        /// them initialized, also when it fails), each recorded for the canonical form;
        /// `false` at anything else.
        mutating func object(
            records: UnsafeMutableBufferPointer<FlatCanonical.Member>,
            into members: UnsafeMutableBufferPointer<Member>,
            count: inout Int
        ) -> Bool {
            skipWhitespace()
            guard take(UInt8(ascii: "{")) else { return false }
            var seen: UInt32 = 0
            repeat {
                skipWhitespace()
                guard let key = string(), let field = FactField.named(bytes(key)), seen & field.bit == 0,
                    count < records.count, count < members.count
                else { return false }
                seen |= field.bit
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipWhitespace()
                let start = position
                let member: Member
                if let contents = string() {
                    let text = String(decoding: bytes(contents), as: UTF8.self)
                    member = Member(field: field, text: text, integer: 0, contents: contents)
                } else if let (value, digits) = integer() {
                    member = Member(field: field, text: nil, integer: value, contents: digits)
                } else {
                    return false
                }
                records[count] = FlatCanonical.Member(key: key, value: start..<position)
                (members.baseAddress! + count).initialize(to: member)
                count += 1
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { return false }
            skipWhitespace()
            return position == input.count
        }

        /// A string of printable ASCII without escapes: the range between its quotes.
        mutating func string() -> Range<Int>? {
            guard position < input.count, input[position] == UInt8(ascii: "\"") else { return nil }
            let start = position + 1
            var index = start
            while index < input.count {
                let byte = input[index]
                if byte == UInt8(ascii: "\"") {
                    position = index + 1
                    return start..<index
                }
                guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
                index += 1
            }
            return nil
        }

        /// A plain integer literal (no sign, no leading zero, no fraction or exponent) of at
        /// most 2^53 − 1, and its digits.
        mutating func integer() -> (Int64, Range<Int>)? {
            let start = position
            var value: Int64 = 0
            while position < input.count, position - start < 16,
                input[position] >= UInt8(ascii: "0"), input[position] <= UInt8(ascii: "9")
            {
                value = value * 10 + Int64(input[position] - UInt8(ascii: "0"))
                position += 1
            }
            let digits = start..<position
            guard !digits.isEmpty, digits.count == 1 || input[start] != UInt8(ascii: "0"),
                value <= JSONValue.maxInteger
            else { return nil }
            // A literal that goes on (a 17th digit, a fraction, an exponent) is for the general path.
            if position < input.count {
                let next = input[position]
                guard next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E"),
                    next < UInt8(ascii: "0") || next > UInt8(ascii: "9")
                else { return nil }
            }
            return (value, digits)
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < input.count, input[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func skipWhitespace() {
            while position < input.count {
                switch input[position] {
                case 0x20, 0x0A, 0x0D, 0x09: position += 1
                default: return
                }
            }
        }
    }
}
