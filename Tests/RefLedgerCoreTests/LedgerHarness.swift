import Crypto
import RefLedgerCore
import Testing

/// Applies facts written as compact JSON to a fresh ledger, remembering what each derived.
struct LedgerHarness {
    static let sha256: Ledger.Hasher = { Array(SHA256.hash(data: $0)) }
    var ledger = Ledger(sha256: sha256)
    var events: [StoredEvent] = []
    let now = Timestamp(rfc3339: "2030-01-01T00:00:00Z")!

    /// Posts a fact; returns what it stored (fact first) or the error.
    @discardableResult
    mutating func post(_ json: String) -> Result<[StoredEvent], LedgerError> {
        var json = json
        if !json.contains(#""id":"#) {
            counter += 1
            json = #"{"id":"f\#(counter)","# + json.dropFirst()
        }
        do {
            let fact = try FactDecoder.decode(Array(json.utf8), now: now)
            let stored = try ledger.apply(fact, recordedAt: now)
            events += stored
            return .success(stored)
        } catch {
            return .failure(error)
        }
    }

    /// Posts a fact that must be accepted; returns its derived events.
    @discardableResult
    mutating func accept(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> [StoredEvent] {
        switch post(json) {
        case .success(let stored): return Array(stored.dropFirst())
        case .failure(let error):
            Issue.record("refused: \(error) for \(json)", sourceLocation: sourceLocation)
            return []
        }
    }

    /// Posts a fact that must be refused; returns the code.
    mutating func refuse(_ json: String) -> ErrorCode? {
        if case .failure(let error) = post(json) { return error.code }
        return nil
    }

    /// The stored form of the last fact accepted.
    var lastFact: StoredEvent? { events.last(where: { $0.fields["cause"] == nil }) }

    var counter = 0

    static func program(_ rules: String, program: String = "p", time: String = "2026-01-01T00:00:00Z") -> String {
        #"{"type":"program","program":"\#(program)","time":"\#(time)","rules":\#(rules)}"#
    }

    static func signup(_ participant: String, extra: String = "", time: String = "2026-01-02T00:00:00Z") -> String {
        #"{"type":"signup","program":"p","time":"\#(time)","participant":"\#(participant)"\#(extra)}"#
    }

    static func convert(
        _ participant: String,
        order: String,
        amount: Int,
        time: String = "2026-01-03T00:00:00Z",
        currency: String = "USD"
    ) -> String {
        #"{"type":"conversion","program":"p","time":"\#(time)","participant":"\#(participant)","order":"\#(order)","amount":\#(amount),"currency":"\#(currency)"}"#
    }

    static func refund(_ order: String, amount: Int, time: String = "2026-01-04T00:00:00Z") -> String {
        #"{"type":"refund","program":"p","time":"\#(time)","order":"\#(order)","amount":\#(amount)}"#
    }

    static func click(_ code: String, visitor: String, time: String) -> String {
        #"{"type":"click","program":"p","time":"\#(time)","code":"\#(code)","visitor":"\#(visitor)"}"#
    }

    static func payout(
        _ participant: String,
        payout: String,
        amount: Int,
        time: String = "2026-02-01T00:00:00Z"
    ) -> String {
        #"{"type":"payout","program":"p","time":"\#(time)","participant":"\#(participant)","payout":"\#(payout)","amount":\#(amount),"currency":"USD"}"#
    }
}

extension StoredEvent {
    subscript(_ key: String) -> JSONValue? { fields[key] }
    var amount: Int64? { fields["amount"]?.integerValue }
    var role: String? { fields["role"]?.stringValue }
    var beneficiary: String? { fields["participant"]?.stringValue }
}
