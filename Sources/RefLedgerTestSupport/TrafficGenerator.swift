public import RefLedgerCore

/// Seeded, realistic referral traffic: NDJSON facts for tests and benchmarks.
///
/// The same ``Config`` gives the same lines, byte for byte, on every machine: the only
/// randomness is ``SeededRandom``, nothing iterates a `Dictionary` or `Set`, and no clock is
/// read. Times are business times from ``Config/start`` on, a few seconds to an hour apart
/// depending on ``Config/factCount``, so that the whole stream spans ``Config/spanDays``
/// days in the past — except the deliberate `future_time` facts (year 2099).
///
/// What the stream holds (DESIGN "Domain numbers for realistic traffic"): several programs
/// with different rules (one-sided fixed, two-sided percent, signup tiers, multi-level,
/// holds, caps, every trigger), one of them created late and three changing rules mid-stream;
/// about 29% of participants invite, with a power law of invites per inviter (mean 2.68);
/// a funnel invite → click (40%) → signup (25%) → conversion (30%); attribution by
/// `referrer_code` and by visitor clicks inside and outside the window, re-clicks (last click
/// wins), self-referrals, unknown referrer codes; custom and assigned codes, referenced in
/// other letter cases; the same participant id in two programs; repeat conversions; partial
/// and full refunds; payouts by the referrers who earned most, settled, failed or left open;
/// times with offsets; backdated facts; re-posted facts (`duplicate`, also with the time at
/// another offset or with whitespace); and at ``Config/invalidRate`` facts that break every
/// decoding rule and every state rule of SPEC §2 and §6.
///
/// The generator keeps what it posted (participants, codes, orders and what is left to
/// refund, payouts) to make valid references, and a rough estimate of each participant's
/// balance for payout amounts; it does not predict the ledger's answers.
public struct TrafficGenerator: Sendable, Sequence, IteratorProtocol {
    /// What to generate.
    public struct Config: Sendable, Hashable {
        /// The seed: the same seed and settings give the same lines.
        public var seed: UInt64
        /// Lines to generate.
        public var factCount: Int
        /// Programs (at least 1); beyond five, the kinds repeat with numbered names.
        public var programs: Int
        /// The share of lines that are deliberately invalid (0 … 1).
        public var invalidRate: Double
        /// The share of lines that re-post an earlier fact unchanged (a `duplicate`).
        public var duplicateRate: Double = 0.005
        /// The share of facts dated up to three days before the ones posted before them.
        public var backdateRate: Double = 0.01
        /// The business time of the first fact.
        public var start = Timestamp(millisecondsSinceEpoch: 1_767_225_600_000)  // 2026-01-01T00:00:00Z
        /// The days the whole stream spans.
        public var spanDays: Int64 = 120

        /// Settings for `factCount` lines from `seed`.
        public init(seed: UInt64, factCount: Int, programs: Int = 4, invalidRate: Double = 0.02) {
            self.seed = seed
            self.factCount = factCount
            self.programs = programs
            self.invalidRate = invalidRate
        }
    }

    /// What a line is meant to be.
    public enum LineKind: Sendable, Hashable, CustomStringConvertible {
        /// A valid fact of this type, expected to be accepted (a few may not be: see
        /// ``TrafficGenerator``'s estimates).
        case fact(FactType)
        /// A re-post of an earlier accepted fact with the same content.
        case duplicate
        /// A fact meant to be refused with this code.
        case invalid(ErrorCode)

        /// The fact type, `duplicate`, or the error code.
        public var description: String {
            switch self {
            case .fact(let type): type.rawValue
            case .duplicate: "duplicate"
            case .invalid(let code): code.rawValue
            }
        }
    }

    /// One generated line.
    public struct Line: Sendable, Hashable {
        /// The fact's JSON (no newline).
        public var text: String
        /// What the line was generated to be.
        public var kind: LineKind
    }

    /// Situations the stream contains, counted for tests that want to know they occurred:
    /// codes custom or assigned, a participant id in two programs, signups with a visitor, by
    /// code, by click, as self-referrals, with an unknown referrer code or after the window, a
    /// visitor clicking a second code, a code written in other letters' case, participants
    /// who invite (and the invites they plan), repeat conversions, partial and full refunds,
    /// rule changes, a program created late, backdated facts, times at an offset or in lower
    /// case, re-posts rewritten, payouts left open, and conflicts that add an assigned code.
    public enum Feature: Int, Sendable, CaseIterable {
        case customCode, assignedCode, participantInTwoPrograms, signupWithVisitor, referredByCode, referredByClick
        case selfReferral, unknownReferrerCode, clickOutsideWindow, visitorReclick, codeInOtherCase
        case inviter, invitesPlanned, repeatConversion, partialRefund, fullRefund, ruleChange, lateProgram
        case backdated, timeWithOffset, timeLowercase, duplicateRewritten, payoutLeftOpen, idConflictAddsAssignedCode
    }

    /// The settings.
    public let config: Config
    /// Lines generated so far.
    public private(set) var linesWritten = 0

    var random: SeededRandom
    var out = FactWriter(capacity: 4096)
    var programs: [ProgramModel] = []
    var schedule: Schedule
    /// Business time now and the time of the fact being written, in ms since the epoch.
    var clock: Int64
    var factTime: Int64
    let meanStepMillis: Int64
    var plan: [PlannedProgramFact] = []
    var planIndex = 0
    var nextNumber: Int64 = 0
    var recent: [RecentFact] = []
    var recentVisitors: [Int32] = []
    var kindCounts = [Int](repeating: 0, count: FactType.allCases.count + 1)
    var invalidCounts: [ErrorCode: Int] = [:]
    var featureCounts = [Int](repeating: 0, count: Feature.allCases.count)

    /// A generator at the first line of `config`'s stream.
    public init(_ config: Config) {
        precondition(config.programs >= 1 && config.factCount >= 0, "need at least one program")
        self.config = config
        random = SeededRandom(seed: config.seed)
        clock = config.start.millisecondsSinceEpoch
        factTime = clock
        schedule = Schedule(origin: clock)
        meanStepMillis = Swift.max(1, config.spanDays * 86_400_000 / Int64(Swift.max(config.factCount, 1)))
        for index in 0..<config.programs {
            let template = ProgramTemplate.template(index)
            programs.append(
                ProgramModel(template: template, index: index, rules: ProgramTemplate.decodeRules(template.rules))
            )
        }
        planPrograms()
    }

    /// Appends the next line's bytes (no newline) to `buffer`; nil when the stream is done.
    public mutating func appendNextLine(to buffer: inout [UInt8]) -> LineKind? {
        guard linesWritten < config.factCount else { return nil }
        linesWritten += 1
        out.reset()
        let kind = produceLine()
        buffer.append(contentsOf: out.buffer)
        count(kind)
        return kind
    }

    /// The next line, or nil when the stream is done.
    public mutating func next() -> Line? {
        var bytes: [UInt8] = []
        guard let kind = appendNextLine(to: &bytes) else { return nil }
        return Line(text: String(decoding: bytes, as: UTF8.self), kind: kind)
    }

    /// The lines of `count` facts from `seed`, with the default mix (4 programs, 2% invalid).
    public static func facts(seed: UInt64, count: Int) -> [String] {
        TrafficGenerator(Config(seed: seed, factCount: count)).map(\.text)
    }

    /// How many lines of each kind were generated so far.
    public var lineCounts: [LineKind: Int] {
        var counts: [LineKind: Int] = [:]
        for (index, type) in FactType.allCases.enumerated() where kindCounts[index] > 0 {
            counts[.fact(type)] = kindCounts[index]
        }
        if kindCounts[FactType.allCases.count] > 0 { counts[.duplicate] = kindCounts[FactType.allCases.count] }
        for (code, count) in invalidCounts { counts[.invalid(code)] = count }
        return counts
    }

    /// How many lines of `kind` were generated so far.
    public func count(of kind: LineKind) -> Int { lineCounts[kind] ?? 0 }

    /// The error codes of the invalid lines generated so far, sorted.
    public var invalidCodes: [ErrorCode] { invalidCounts.keys.sorted { $0.rawValue < $1.rawValue } }

    /// How often each situation occurred so far.
    public func count(of feature: Feature) -> Int { featureCounts[feature.rawValue] }

    /// Every error code the generator produces when the invalid rate allows.
    public static let producibleErrors: [ErrorCode] = ErrorCode.allCases.filter {
        ![.overloaded, .notFound, .storageFull].contains($0)
    }

    private mutating func count(_ kind: LineKind) {
        switch kind {
        case .fact(let type): kindCounts[type.index] += 1
        case .duplicate: kindCounts[FactType.allCases.count] += 1
        case .invalid(let code): invalidCounts[code, default: 0] += 1
        }
    }

    mutating func note(_ feature: Feature, _ amount: Int = 1) { featureCounts[feature.rawValue] += amount }

    /// One line: a planned program fact, an invalid fact, a re-post, or the simulation's next.
    private mutating func produceLine() -> LineKind {
        clock += random.between(0, 2 * meanStepMillis)
        factTime = clock
        if planIndex < plan.count, plan[planIndex].line <= linesWritten {
            planIndex += 1
            return emitProgramFact(plan[planIndex - 1])
        }
        if random.chance(config.invalidRate) { return emitInvalid() }
        if !recent.isEmpty, random.chance(config.duplicateRate) { return emitDuplicate() }
        return emitValid()
    }
}

/// A `program` fact due at a line: a program's creation or a change of its rules.
struct PlannedProgramFact: Sendable {
    var line: Int
    var program: Int
    var isChange: Bool
    var isLate = false
}

/// An accepted fact kept for re-posting.
struct RecentFact: Sendable {
    var bytes: [UInt8]
    var timeRange: Range<Int>
    var millis: Int64
    var id: Int64
    var program: UInt8
    /// The code the ledger assigned, when this is a signup without `code`; else 0.
    var assignedCode: UInt64
}
