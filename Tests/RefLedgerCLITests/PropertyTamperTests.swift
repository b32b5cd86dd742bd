import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// A generated log verifies; one derived event altered with a chain that still holds is
/// caught by re-derivation alone, in `import` and in `verify`.
@Suite struct PropertyTamperTests {
    @Test func verifyPassesAndReDerivationCatchesOneAlteredReward() throws {
        let (lines, _) = generatedLines(seed: 7, count: 4000)
        let directory = try TemporaryDirectory("tamper")
        defer { directory.remove() }
        let facts = directory.appending("facts.ndjson")
        try writeNDJSON(lines, to: facts)
        let data = directory.appending("a")
        _ = try runCommand("refledger", ["import", facts, "--data", data])
        let verified = try runCommand("refledger", ["verify", "--data", data])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.hasPrefix("ok:"))

        let export = directory.appending("a.zst")
        #expect(try runCommand("refledger", ["export", "--data", data, "-o", export]).status == 0)
        let exported = try readLines(export)
        let rewards = try exported.indices.filter { try StoredEvent(parsing: exported[$0]).type == "reward" }
        try #require(rewards.count > 10, "the stream derived rewards")
        let target = rewards[rewards.count / 2]
        let altered = try rechained(exported, altering: target)
        let targetSeq = try StoredEvent(parsing: altered[target]).seq
        #expect(altered[..<target] == exported[..<target])
        #expect(altered[target] != exported[target])

        // import: the chain holds, so only re-derivation can name the line.
        let alteredFile = directory.appending("altered.ndjson")
        try Data(altered.flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: alteredFile))
        let imported = try runCommand("refledger", ["import", alteredFile, "--data", directory.appending("c")])
        #expect(imported.status != 0)
        #expect(imported.stderr.contains("line \(target + 1):"), "\(imported.stderr)")
        #expect(imported.stderr.contains("differs from what the ledger derives"), "\(imported.stderr)")

        // verify: the same events appended as they are, chain computed by the store.
        let forged = directory.appending("d")
        let log = try EventLog.open(directory: forged, readOnly: false)
        var batch: [EventLog.Entry] = []
        for line in altered {
            let event = try StoredEvent(parsing: line)
            batch.append(EventLog.Entry(id: event.id, seq: event.seq, body: event.canonicalBody()))
            if batch.count == 1000 {
                _ = try log.append(batch)
                batch.removeAll()
            }
        }
        _ = try log.append(batch)
        #expect(try log.head().hashHex == (try StoredEvent.hash(of: altered.last!)))
        log.close()
        let caught = try runCommand("refledger", ["verify", "--data", forged])
        #expect(caught.status == 1)
        #expect(caught.output.contains("seq \(targetSeq)"), "\(caught.output)")
        #expect(!caught.output.contains("chain broken"), "\(caught.output)")
    }

    /// The export's lines with the reward at `target` given 1 more, and that line's and every
    /// later line's `prev` and `hash` recomputed as SPEC §7 says.
    private func rechained(_ lines: [[UInt8]], altering target: Int) throws -> [[UInt8]] {
        var result = Array(lines[..<target])
        var prev = target == 0 ? Chain.genesisHash : Chain.bytes(fromHex: try StoredEvent.hash(of: lines[target - 1]))!
        for (offset, line) in lines[target...].enumerated() {
            var event = try StoredEvent(parsing: line)
            if offset == 0 { event.fields["amount"] = .integer(event.fields["amount"]!.integerValue! + 1) }
            let body = event.canonicalBody()
            let hash = try Chain.hash(prevHash: prev, bodyWithoutPrevAndHash: body)
            result.append(try Chain.fullEvent(bodyWithoutPrevAndHash: body, prevHash: prev, hash: hash))
            prev = hash
        }
        return result
    }
}

extension StoredEvent {
    /// The `hash` member of a full stored event's JSON.
    static func hash(of line: [UInt8]) throws -> String {
        guard case .object(let object) = try JSONParser.parse(line), let hash = object["hash"]?.stringValue else {
            throw CocoaError(.coderReadCorrupt)
        }
        return hash
    }
}
