public import RefLedgerCore
import RefLedgerStore

/// The bytes of the daemon's answers to posted facts (SPEC §6).
///
/// A result is `{"seq","id","status","code","attribution","derived"}` — `code` and
/// `attribution` for a signup only — where `derived` holds the full stored derived events
/// (with `prev` and `hash`). An error is `{"error":{…}}` for a single fact and
/// `{"id","status","error"}` as an NDJSON result line.
public enum ResultJSON {
    /// The result of a fact stored by this request: its derived events as committed (the
    /// bodies the commit wrote, not written again).
    static func created(events: [StoredEvent], committed: ArraySlice<LedgerWriter.Committed>) throws -> [UInt8] {
        var output: [UInt8] = []
        try created(events: events, committed: committed, into: &output)
        return output
    }

    /// ``created(events:committed:)`` appended to `output` (a batch's result lines); nothing
    /// is appended when it throws.
    static func created(
        events: [StoredEvent],
        committed: ArraySlice<LedgerWriter.Committed>,
        into output: inout [UInt8]
    ) throws {
        guard let fact = events.first, committed.count == events.count else {
            throw StoreError(.invalidArgument, "a created fact needs one committed body per event")
        }
        var derived: [[UInt8]] = []
        derived.reserveCapacity(events.count - 1)
        for event in committed.dropFirst() {
            derived.append(
                try Chain.fullEvent(
                    bodyWithoutPrevAndHash: event.body,
                    prevHash: event.link.prevHash,
                    hash: event.link.hash
                )
            )
        }
        result(fact: fact, status: "created", derived: derived, into: &output)
    }

    /// The first result of a fact stored before at `seq`, rebuilt from the log: the fact and
    /// the events after it whose `cause` is its id.
    static func duplicate(seq: UInt64, log: EventLog) throws -> [UInt8] {
        guard let record = try log.record(at: seq) else {
            throw StoreError(.corrupted, "the id index names seq \(seq), which the log does not hold")
        }
        let fact = try StoredEvent(parsing: record.body)
        var derived: [[UInt8]] = []
        let head = try log.head().seq
        var next = seq + 1
        // A fact derives a handful of events; stop at the first that is not its own.
        while next <= head, let candidate = try log.record(at: next) {
            let event = try StoredEvent(parsing: candidate.body)
            guard event.fields["cause"]?.stringValue == fact.id else { break }
            derived.append(try candidate.fullJSON())
            next += 1
        }
        var output: [UInt8] = []
        result(fact: fact, status: "duplicate", derived: derived, into: &output)
        return output
    }

    /// Appends a result to `output`: the fact's seq, id and status, a signup's `code` and
    /// `attribution`, the derived events' full JSON.
    private static func result(fact: StoredEvent, status: String, derived: [[UInt8]], into output: inout [UInt8]) {
        // Only a fresh output is sized here: reserving in a batch's output at every line would
        // reallocate it to the exact size each time, instead of growing it geometrically.
        if output.isEmpty { output.reserveCapacity(96 + derived.reduce(0) { $0 + $1.count + 1 }) }
        output.append(contentsOf: #"{"seq":"#.utf8)
        CanonicalJSON.writeInteger(Int64(fact.seq), into: &output)
        output.append(contentsOf: #","id":"#.utf8)
        CanonicalJSON.writeString(fact.id, into: &output)
        output.append(contentsOf: #","status":"#.utf8)
        CanonicalJSON.writeString(status, into: &output)
        if fact.type == FactType.signup.rawValue {
            if let code = fact.member("code") {
                output.append(contentsOf: #","code":"#.utf8)
                CanonicalJSON.write(code, into: &output)
            }
            if let attribution = fact.member("attribution") {
                output.append(contentsOf: #","attribution":"#.utf8)
                CanonicalJSON.write(attribution, into: &output)
            }
        }
        output.append(contentsOf: #","derived":["#.utf8)
        for (index, event) in derived.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: event)
        }
        output.append(contentsOf: "]}".utf8)
    }

    /// `{"error":{"code","message","field"}}`.
    static func errorBody(_ error: LedgerError) -> [UInt8] {
        ResponseJSON.encode(.object(JSONObject([("error", .object(error.jsonObject))])))
    }

    /// An NDJSON result line of a refused fact: `{"id","status","error"}`, with `id` only
    /// when the line had a readable one (never for `too_large` or `bad_json`).
    public static func errorLine(_ error: LedgerError) -> [UInt8] {
        var members: [(String, JSONValue)] = []
        if let id = error.id, error.code != .tooLarge, error.code != .badJSON { members.append(("id", .string(id))) }
        members.append(("status", .integer(Int64(error.code.httpStatus))))
        members.append(("error", .object(error.jsonObject)))
        return ResponseJSON.encode(.object(JSONObject(members)))
    }
}
