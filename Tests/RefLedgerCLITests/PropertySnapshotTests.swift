import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// Snapshots of generated streams: a decoded snapshot is the same ledger, and a ledger
/// restored from a snapshot and the log after it is the ledger a full replay gives.
@Suite struct PropertySnapshotTests {
    /// decode(encode(ledger)) answers every query like the ledger, encodes to the same bytes,
    /// and goes on exactly like it: the rest of the stream derives the same events and errors.
    @Test(arguments: zip(propertySeeds, [0.2, 0.5, 0.8]))
    func aDecodedSnapshotAnswersAndGoesOnLikeTheOriginal(seed: UInt64, cut: Double) throws {
        let facts = TrafficGenerator.facts(seed: seed, count: 5000).compactMap {
            try? FactDecoder.decode(Array($0.utf8), now: propertyClock)
        }
        let split = Int(Double(facts.count) * cut)
        var original = Ledger.standard()
        for fact in facts[..<split] { _ = try? original.apply(fact, recordedAt: propertyClock) }
        let bytes = original.snapshotBytes()
        var decoded = try Ledger(snapshot: bytes, sha256: Ledger.standardHasher)
        #expect(decoded.head == original.head)
        #expect(decoded.snapshotBytes() == bytes)
        let onTwoThreads = try Ledger(snapshot: bytes, sha256: Ledger.standardHasher, fork: Ledger.onTwoThreads)
        #expect(
            onTwoThreads.snapshotBytes() == bytes,
            "a program's sections read at the same time give the same ledger"
        )
        #expect(original.snapshotBytes() == bytes, "encoding twice gives the same bytes")
        try expectSameAnswers(decoded, original, participants: everyParticipant(of: original))

        var differences = 0
        for fact in facts[split...] {
            let expected = Result { () throws(LedgerError) in try original.apply(fact, recordedAt: propertyClock) }
            let actual = Result { () throws(LedgerError) in try decoded.apply(fact, recordedAt: propertyClock) }
            if Self.outcome(actual) != Self.outcome(expected) {
                differences += 1
                if differences <= 3 { Issue.record("\(fact.id): \(Self.outcome(actual)) ≠ \(Self.outcome(expected))") }
            }
        }
        #expect(differences == 0)
        #expect(decoded.head > UInt64(split))
        #expect(decoded.snapshotBytes() == original.snapshotBytes())
        try expectSameAnswers(decoded, original, participants: everyParticipant(of: original))
    }

    /// A restart's ledger (newest snapshot + the log after it) is the full replay's, at the head
    /// and as of earlier seqs: before, at and after each snapshot, and inside a derivation.
    @Test(arguments: propertySeeds)
    func restoringFromASnapshotAndTheTailEqualsAFullReplay(seed: UInt64) throws {
        try withSnapshottedLog(seed: seed) { log, events, taken in
            #expect(try log.snapshotSeqs() == Array(taken.suffix(2)), "the newest two are kept")
            let (older, newer) = (taken[1], taken[2])

            let head = try log.head().seq
            let full = try LedgerReplay.replay(log)
            let (restored, report) = try LedgerReplay.restore(log)
            #expect(report.snapshotSeq == newer && report.replayedEvents == head - newer && report.skipped.isEmpty)
            #expect(restored.snapshotBytes() == full.snapshotBytes())
            try expectSameAnswers(restored, full, participants: everyParticipant(of: full))

            let insideDerivations = events.indices.dropLast().filter {
                LedgerReplay.isDerived(events[$0]) && LedgerReplay.isDerived(events[$0 + 1])
            }.map { events[$0].seq }
            let inside = try #require(
                insideDerivations.first { $0 > newer },
                "a fact with two derived events after \(newer)"
            )
            for asOf in [taken[0], older - 1, older, older + 1, newer - 1, newer, inside, head - 1, head, head + 5] {
                let (ledger, report) = try LedgerReplay.restore(log, through: asOf)
                let expectedSnapshot = asOf >= newer ? newer : asOf >= older ? older : nil
                #expect(report.snapshotSeq == expectedSnapshot, "as of \(asOf)")
                #expect(ledger.head == min(asOf, head))
                #expect(
                    ledger.snapshotBytes() == (try LedgerReplay.replay(log, through: asOf)).snapshotBytes(),
                    "as of \(asOf)"
                )
            }
        }
    }

    /// Walking forward through the log, each ledger goes on from the one before when no
    /// snapshot lies between them and that one was not cut inside a derivation (handed over
    /// all the same, a cut one is passed by); else it is restored from a snapshot (or seq 1).
    /// Either way it is the full replay's, cut inside a derivation or not.
    @Test(arguments: propertySeeds)
    func restoringFromAnEarlierLedgerEqualsAFullReplay(seed: UInt64) throws {
        try withSnapshottedLog(seed: seed) { log, events, taken in
            let (older, newer) = (taken[1], taken[2])
            let head = try log.head().seq
            /// Whether a ledger as of `seq` is cut inside a derivation (the next event is derived).
            func isInside(_ seq: UInt64) -> Bool { seq < head && LedgerReplay.isDerived(events[Int(seq)]) }
            let insides = (1..<head).filter(isInside)
            let insideBefore = try #require(insides.first { $0 > 100 && $0 < older - 10 })
            let insideAfter = try #require(insides.first { $0 > newer + 10 && $0 < head - 10 })
            var steps = [UInt64(40), 41, insideBefore, insideBefore + 1, older - 2, older + 3, older + 4, newer + 1]
            steps += [insideAfter, insideAfter + 1, head - 1, head]

            var previous: Ledger?
            var resumed = 0
            var passedCut = 0
            for asOf in steps {
                let (ledger, report) = try LedgerReplay.restore(log, through: asOf, startingFrom: previous)
                let snapshotBetween = [older, newer].contains { $0 > previous?.head ?? 0 && $0 <= asOf }
                let couldResume = previous.map { $0.head <= asOf && !snapshotBetween } ?? false
                let resumes = couldResume && previous?.isCut == false
                #expect(report.resumedFrom == (resumes ? previous?.head : nil), "as of \(asOf)")
                if resumes { resumed += 1 }
                if couldResume && !resumes { passedCut += 1 }
                #expect(report.snapshotSeq == (resumes ? nil : asOf >= newer ? newer : asOf >= older ? older : nil))
                #expect(ledger.isCut == isInside(asOf), "as of \(asOf)")
                #expect(ledger.head == asOf)
                #expect(
                    ledger.snapshotBytes() == (try LedgerReplay.replay(log, through: asOf)).snapshotBytes(),
                    "as of \(asOf)"
                )
                previous = ledger
            }
            #expect(resumed >= 4, "the walk goes on from the ledger before at least 4 times")
            #expect(passedCut >= 2, "a cut ledger handed over is passed by")
        }
    }

    /// The log of seed `seed`'s 5,000 generated lines, with snapshots taken after lines 999,
    /// 2,499 and 3,999: `body` gets it (read-only), its stored events and the snapshots' seqs.
    private func withSnapshottedLog(
        seed: UInt64,
        _ body: (_ log: EventLog, _ events: [StoredEvent], _ taken: [UInt64]) throws -> Void
    ) throws {
        let (lines, _) = generatedLines(seed: seed, count: 5000)
        let directory = try TemporaryDirectory("snap")
        defer { directory.remove() }
        let data = directory.appending("data")
        let taken = try ingestWithSnapshots(lines, into: data, snapshotAfter: [999, 2499, 3999])
        let events = try storedEvents(in: data).map(\.event)
        let log = try EventLog.open(directory: data, readOnly: true)
        defer { log.close() }
        try body(log, events, taken)
    }

    /// What applying a fact did, comparable: the stored events' bytes, or the error code.
    static func outcome(_ result: Result<[StoredEvent], LedgerError>) -> [String] {
        switch result {
        case .success(let events): events.map { String(decoding: $0.canonicalBody(), as: UTF8.self) }
        case .failure(let error): [error.code.rawValue]
        }
    }
}
