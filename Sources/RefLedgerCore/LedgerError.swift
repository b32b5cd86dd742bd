/// Every error code of the contract (SPEC §6), with its HTTP status.
public enum ErrorCode: String, Sendable, CaseIterable, Codable {
    case badJSON = "bad_json"
    case unknownField = "unknown_field"
    case missingField = "missing_field"
    case badValue = "bad_value"
    case unknownType = "unknown_type"
    case derivedType = "derived_type"
    case futureTime = "future_time"
    case tooLarge = "too_large"
    case idConflict = "id_conflict"
    case participantExists = "participant_exists"
    case codeTaken = "code_taken"
    case duplicateOrder = "duplicate_order"
    case duplicatePayout = "duplicate_payout"
    case payoutFinished = "payout_finished"
    case unknownProgram = "unknown_program"
    case unknownParticipant = "unknown_participant"
    case unknownCode = "unknown_code"
    case unknownOrder = "unknown_order"
    case unknownPayout = "unknown_payout"
    case overRefund = "over_refund"
    case insufficientFunds = "insufficient_funds"
    case currencyMismatch = "currency_mismatch"
    case overloaded = "overloaded"
    case notFound = "not_found"
    case storageFull = "storage_full"

    /// The HTTP status that answers this code (the one table of SPEC §6).
    public var httpStatus: Int {
        switch self {
        case .badJSON, .unknownField, .missingField, .badValue, .unknownType, .derivedType, .futureTime: 400
        case .tooLarge: 413
        case .idConflict, .participantExists, .codeTaken, .duplicateOrder, .duplicatePayout, .payoutFinished: 409
        case .unknownProgram, .unknownParticipant, .unknownCode, .unknownOrder, .unknownPayout, .overRefund,
            .insufficientFunds, .currencyMismatch:
            422
        case .overloaded: 503
        case .notFound: 404
        case .storageFull: 507
        }
    }
}

/// A fact refused, or a query that cannot be answered: the §6 code, a message for people,
/// the field at fault (a path such as `rules.tiers[0].min_referrals`) and, where the input
/// had a readable one, the fact's `id`.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var field: String?
    /// The `id` of the fact, when the input parsed as an object whose `id` is a string.
    public var id: String?

    public init(_ code: ErrorCode, _ message: String, field: String? = nil, id: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.id = id
    }

    public var description: String {
        "\(code.rawValue): \(message)" + (field.map { " (field \($0))" } ?? "")
    }

    /// `{"code": …, "message": …, "field": …}` — the body of `{"error": …}`.
    public var jsonObject: JSONObject {
        var object = JSONObject()
        object["code"] = .string(code.rawValue)
        object["message"] = .string(message)
        if let field { object["field"] = .string(field) }
        return object
    }
}
