import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// The traffic generator: deterministic, realistic, and right about what its lines are.
@Suite struct PropertyGeneratorTests {
    @Test func theSameSeedGivesTheSameLinesAndAnotherSeedOthers() {
        let first = TrafficGenerator.facts(seed: 42, count: 4000)
        #expect(first == TrafficGenerator.facts(seed: 42, count: 4000))
        #expect(first.count == 4000)
        let other = TrafficGenerator.facts(seed: 43, count: 4000)
        #expect(first != other)
        #expect(zip(first, other).filter { $0 != $1 }.count > 3000)
        // Pinned: the same bytes on every machine and toolchain. A deliberate change to the
        // generator updates this value (print it from this test).
        let digest = fnv1a(first.joined(separator: "\n"))
        #expect(digest == 0xCD3F_1273_000B_FC08, "FNV-1a of seed 42 is \(String(digest, radix: 16))")
    }

    @Test func assignedCodesFollowSpecSection3() {
        // SHA-256("shop/alice") starts 92 98 4e 43 dd: those 40 bits in Crockford base32
        // (worked out with Python's hashlib).
        let code = TrafficGenerator.assignedCode(program: "shop", participant: "alice")
        #expect(code == "JAC4WGYX")
        var ledger = Ledger.standard()
        let program =
            #"{"id":"p","type":"program","program":"shop","time":"2026-01-01T00:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1}}}"#
        let signup = #"{"id":"s","type":"signup","program":"shop","time":"2026-01-01T00:00:00Z","participant":"alice"}"#
        for text in [program, signup] {
            _ = try? ledger.apply(FactDecoder.decode(Array(text.utf8), now: propertyClock), recordedAt: propertyClock)
        }
        #expect(
            (try? ledger.participantView(program: "shop", participant: "alice", at: propertyClock))?["code"]
                == .string(code)
        )
    }

    @Test func theStreamHasTheDomainNumbersOfTheDesign() {
        var generator = TrafficGenerator(TrafficGenerator.Config(seed: 5, factCount: 100_000))
        while generator.next() != nil {}
        let signups = Double(generator.count(of: .fact(.signup)))
        let inviters = Double(generator.count(of: .inviter))
        let invites = Double(generator.count(of: .fact(.invite)))
        let clicks = Double(generator.count(of: .fact(.click)))
        let referred = Double(generator.count(of: .referredByCode) + generator.count(of: .referredByClick))
        #expect(abs(inviters / signups - 0.29) < 0.02, "inviters \(inviters) of \(signups)")
        #expect(abs(Double(generator.count(of: .invitesPlanned)) / inviters - 2.68) < 0.4)
        #expect(abs(clicks / invites - 0.40) < 0.03, "clicks \(clicks) / invites \(invites)")
        // Signups come up to a window and more after their click: the stream's end cuts some.
        #expect(abs(referred / clicks - 0.235) < 0.03, "referred \(referred) / clicks \(clicks)")
        #expect(
            abs(
                Double(
                    generator.lineCounts.filter { if case .invalid = $0.key { true } else { false } }.values.reduce(
                        0,
                        +
                    )
                ) / 100_000 - 0.02
            ) < 0.003
        )
        for feature in TrafficGenerator.Feature.allCases {
            #expect(generator.count(of: feature) > 0, "\(feature) never occurred")
        }
        for type in FactType.allCases { #expect(generator.count(of: .fact(type)) > 0, "no \(type) fact") }
        #expect(generator.count(of: .duplicate) > 0)
    }

    /// Every error code the generator produces is the ledger's answer to its lines: decoding
    /// errors always, state errors nearly always (the generator's estimates are rough).
    @Test func everyGeneratedErrorIsTheLedgersAnswer() throws {
        let (lines, generator) = generatedLines(seed: 99, count: 8000, invalidRate: 0.3)
        #expect(generator.invalidCodes == TrafficGenerator.producibleErrors.sorted { $0.rawValue < $1.rawValue })
        let directory = try TemporaryDirectory("codes")
        defer { directory.remove() }
        let outcomes = try ingest(lines, into: directory.appending("data"))
        let observed = Set(outcomes.compactMap(\.rejection))
        for code in generator.invalidCodes { #expect(observed.contains(code), "\(code) never refused") }
        var wrong: [String] = []
        for result in outcomes {
            let ok: Bool
            switch (result.line.kind, result.outcome) {
            case (.fact, .created), (.duplicate, .duplicate): ok = true
            case (.invalid(let code), .rejected(let error)): ok = code == error.code
            default: ok = false
            }
            if !ok {
                wrong.append(
                    "line \(result.index + 1) meant \(result.line.kind), got \(result.outcome): \(result.line.text.prefix(300))"
                )
            }
        }
        let decoding: Set<ErrorCode> = [
            .badJSON, .unknownField, .missingField, .badValue, .unknownType, .derivedType, .futureTime, .tooLarge,
        ]
        let decodingWrong = wrong.filter { line in decoding.contains { line.contains("meant \($0.rawValue),") } }
        #expect(decodingWrong.isEmpty, "\(decodingWrong.prefix(5))")
        #expect(wrong.count <= outcomes.count / 200, "\(wrong.count) lines differ: \(wrong.prefix(10))")
    }

    /// With no invalid lines, nearly every fact is accepted and every re-post is a duplicate.
    @Test(arguments: propertySeeds)
    func withoutInvalidLinesNearlyEverythingIsAccepted(seed: UInt64) throws {
        let (lines, generator) = generatedLines(seed: seed, count: 5000, invalidRate: 0)
        #expect(generator.invalidCodes.isEmpty)
        let directory = try TemporaryDirectory("valid")
        defer { directory.remove() }
        let outcomes = try ingest(lines, into: directory.appending("data"))
        let refused = outcomes.filter { $0.rejection != nil }
        #expect(
            refused.count <= outcomes.count / 500,
            "\(refused.map { "line \($0.index + 1): \($0.outcome)" }.prefix(10))"
        )
        // Only payouts sized from rough estimates may be refused (and then their settlement).
        let payoutCodes: Set<ErrorCode> = [.insufficientFunds, .unknownPayout]
        #expect(
            refused.allSatisfy { payoutCodes.contains($0.rejection!) },
            "\(refused.map { "line \($0.index + 1): \($0.outcome) for \($0.line.text)" }.prefix(5))"
        )
        for result in outcomes where result.line.kind == .duplicate {
            guard case .duplicate = result.outcome else {
                Issue.record("line \(result.index + 1) re-posts a fact but got \(result.outcome)")
                continue
            }
        }
    }
}

/// 64-bit FNV-1a of a string's UTF-8.
func fnv1a(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}
