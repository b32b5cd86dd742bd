/// Turns the bytes of one posted fact into a validated `Fact`, or the first thing wrong
/// with it (SPEC §2 stage 1: size, JSON, `type`, unknown and missing fields, values, time).
///
/// Pure: the daemon's clock comes in as `now`, used only for `future_time`.
public enum FactDecoder {
    /// The largest body or NDJSON line accepted, newline not counted.
    public static let maxFactBytes = 65_536
    /// How far ahead of the daemon's clock a fact's `time` may be.
    public static let maxFutureMilliseconds: Int64 = 300_000

    /// `too_large` for a fact (or a line read apart from its bytes) of `byteCount` bytes.
    public static func tooLarge(byteCount: Int) -> LedgerError {
        LedgerError(.tooLarge, "a fact may be at most \(maxFactBytes) bytes; this one has \(byteCount)")
    }

    /// Decodes one fact from its JSON bytes.
    public static func decode(_ bytes: UnsafeRawBufferPointer, now: Timestamp) throws(LedgerError) -> Fact {
        guard bytes.count <= maxFactBytes else {
            throw tooLarge(byteCount: bytes.count)
        }
        // The common fact is decoded in one pass (``FlatFactDecoder``); the general path decides
        // everything else, errors included.
        let result = withUnsafeTemporaryAllocation(of: FlatCanonical.Member.self, capacity: FlatCanonical.maxMembers) {
            members -> Result<Fact, LedgerError> in
            if let fact = FlatFactDecoder.decode(bytes, now: now, records: members) { return .success(fact) }
            return Result { () throws(LedgerError) in try decodeGeneral(bytes, now: now, members: members) }
        }
        return try result.get()
    }

    /// The general path: a JSON tree, then each field looked up and checked.
    ///
    /// The parser notes where the members are, so that the stored body of a plain fact is
    /// written straight from these bytes (``FlatCanonical``) without reading them again.
    static func decodeGeneral(
        _ bytes: UnsafeRawBufferPointer,
        now: Timestamp,
        members: UnsafeMutableBufferPointer<FlatCanonical.Member>
    ) throws(LedgerError) -> Fact {
        let parsed: (value: JSONValue, flatMembers: Int?)
        do throws(JSONParser.SyntaxError) {
            parsed = try JSONParser.parse(bytes, recordingMembersInto: members)
        } catch {
            throw LedgerError(.badJSON, "not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object(let object) = parsed.value else {
            throw LedgerError(.badJSON, "a fact must be a JSON object")
        }
        var fact = try decode(object: object, now: now)
        if fact.type != .program, let count = parsed.flatMembers, let time = fact.clientFields["time"]?.stringValue {
            fact.canonicalClient = FlatCanonical.encode(
                bytes,
                members: UnsafeMutableBufferPointer(rebasing: members[..<count]),
                time: time
            )
        }
        return fact
    }

    /// Decodes one fact from its JSON bytes.
    public static func decode(_ bytes: [UInt8], now: Timestamp) throws(LedgerError) -> Fact {
        let result: Result<Fact, LedgerError> = bytes.withUnsafeBytes { buffer in
            do throws(LedgerError) { return .success(try decode(buffer, now: now)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Decodes one fact from an already parsed JSON object.
    public static func decode(object: JSONObject, now: Timestamp) throws(LedgerError) -> Fact {
        let readableID = object["id"]?.stringValue
        do {
            return try decodeObject(object, now: now)
        } catch {
            var error = error
            error.id = readableID
            throw error
        }
    }

    private static func decodeObject(_ object: JSONObject, now: Timestamp) throws(LedgerError) -> Fact {
        let type = try factType(of: object)
        try checkUnknownAndMissing(object, allowed: allowedFields[type.index], path: "")
        let reader = FieldReader(object: object, path: "")
        let id = try reader.factString(.id)!
        let program = try reader.factString(.program)!
        let payload = try decodePayload(type, reader: reader)
        guard let timeText = object["time"]?.stringValue, let time = Timestamp(rfc3339: timeText) else {
            throw LedgerError(
                .badValue,
                "time must be an RFC 3339 timestamp with Z or an offset and at most 3 fraction digits",
                field: "time"
            )
        }
        guard time.millisecondsSinceEpoch <= now.millisecondsSinceEpoch + maxFutureMilliseconds else {
            throw LedgerError(
                .futureTime,
                "time \(time) is more than 300 s ahead of the daemon's clock (\(now))",
                field: "time"
            )
        }
        var clientFields = object
        if !isNormalized(timeText) { clientFields["time"] = .string(time.description) }
        return Fact(id: id, type: type, program: program, time: time, payload: payload, clientFields: clientFields)
    }

    private static let envelope: [FieldSpec] = [
        FieldSpec("id", required: true), FieldSpec("type", required: true),
        FieldSpec("program", required: true), FieldSpec("time", required: true),
    ]

    /// Every field each fact type may have: the envelope, then its own; indexed like
    /// `FactType.allCases`.
    static let allowedFields: [[FieldSpec]] = FactType.allCases.map { envelope + FieldSpec.fields(of: $0) }

    /// Every member name a posted fact may hold.
    static let memberNames = allowedFields.flatMap { $0.map(\.name) }

    /// Whether a time that parsed is already written the normalized way
    /// (`YYYY-MM-DDTHH:MM:SS.mmmZ`), so that normalizing would not change it.
    static func isNormalized(_ parsed: String) -> Bool {
        let utf8 = parsed.utf8
        guard utf8.count == 24 else { return false }
        let checked = utf8.withContiguousStorageIfAvailable { bytes in
            bytes[10] == UInt8(ascii: "T") && bytes[19] == UInt8(ascii: ".") && bytes[23] == UInt8(ascii: "Z")
        }
        if let checked { return checked }
        let bytes = Array(utf8)
        return bytes[10] == UInt8(ascii: "T") && bytes[19] == UInt8(ascii: ".") && bytes[23] == UInt8(ascii: "Z")
    }

    private static func factType(of object: JSONObject) throws(LedgerError) -> FactType {
        guard let value = object["type"] else { throw LedgerError(.missingField, "type is required", field: "type") }
        guard case .string(let name) = value else {
            throw LedgerError(.badValue, "type must be a string", field: "type")
        }
        if let type = FactType.named(name) { return type }
        if DerivedType(rawValue: name) != nil {
            throw LedgerError(
                .derivedType,
                "\(name) events are derived by the daemon and cannot be posted",
                field: "type"
            )
        }
        throw LedgerError(.unknownType, "unknown fact type \"\(name)\"", field: "type")
    }

    static func checkUnknownAndMissing(_ object: JSONObject, allowed: [FieldSpec], path: String) throws(LedgerError) {
        assert(allowed.count <= 64, "one bit per allowed field")
        var found: UInt64 = 0
        for member in object.members.indices {
            let key = object.members[member].key
            let length = key.utf8.count
            guard let spec = allowed.firstIndex(where: { $0.length == length && $0.name == key }) else {
                throw LedgerError(
                    .unknownField,
                    "unknown field \(FieldReader.join(path, key))",
                    field: FieldReader.join(path, key)
                )
            }
            found |= 1 << UInt64(spec)
        }
        for (index, spec) in allowed.enumerated() where spec.required && found & (1 << UInt64(index)) == 0 {
            throw LedgerError(
                .missingField,
                "\(FieldReader.join(path, spec.name)) is required",
                field: FieldReader.join(path, spec.name)
            )
        }
    }

    private static func decodePayload(_ type: FactType, reader: FieldReader) throws(LedgerError) -> FactPayload {
        if type == .program { return .program(try RulesDecoder.decode(reader.object["rules"]!, path: "rules")) }
        let amounts = 1...JSONValue.maxInteger
        return try FactPayload.read(
            type,
            text: { member throws(LedgerError) in try reader.factString(member) },
            channel: { () throws(LedgerError) in try reader.channel(FactField.channel.name) },
            amount: { () throws(LedgerError) in try reader.integer(FactField.amount.name, in: amounts) }
        )
    }
}

/// A field a JSON object may hold, and whether it must.
struct FieldSpec: Sendable {
    let name: String
    let required: Bool
    /// `name`'s length in UTF-8 bytes: most names compared while matching a key differ in it.
    let length: Int

    init(_ name: String, required: Bool) {
        self.name = name
        self.required = required
        length = name.utf8.count
    }

    /// The fields of each fact type besides the envelope, in the contract's order.
    static func fields(of type: FactType) -> [FieldSpec] {
        switch type {
        case .program: [FieldSpec("rules", required: true)]
        case .signup:
            [
                FieldSpec("participant", required: true), FieldSpec("code", required: false),
                FieldSpec("referrer_code", required: false), FieldSpec("visitor", required: false),
            ]
        case .invite:
            [
                FieldSpec("participant", required: true), FieldSpec("channel", required: true),
                FieldSpec("invitee", required: false),
            ]
        case .click:
            [
                FieldSpec("code", required: true), FieldSpec("visitor", required: true),
                FieldSpec("channel", required: false),
            ]
        case .conversion:
            [
                FieldSpec("participant", required: true), FieldSpec("order", required: true),
                FieldSpec("amount", required: true), FieldSpec("currency", required: true),
            ]
        case .refund: [FieldSpec("order", required: true), FieldSpec("amount", required: true)]
        case .payout:
            [
                FieldSpec("participant", required: true), FieldSpec("payout", required: true),
                FieldSpec("amount", required: true), FieldSpec("currency", required: true),
            ]
        case .payoutSettled: [FieldSpec("payout", required: true)]
        case .payoutFailed: [FieldSpec("payout", required: true), FieldSpec("reason", required: false)]
        }
    }
}
