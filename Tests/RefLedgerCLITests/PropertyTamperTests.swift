import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// A generated log verifies; one derived event altered with a chain that still holds is
/// caught by re-derivation alone, in `import` and in `verify`.
@Suite struct PropertyTamperTests {
    @Test func verifyPassesAndReDerivationCatchesOneAlteredReward() throws {
        let directory = try TemporaryDirectory("tamper")
        defer { directory.remove() }
        let (data, exported) = try Self.importAndExport(seed: 7, count: 4000, in: directory)
        let verified = try runCommand("refledger", ["verify", "--data", data])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.hasPrefix("ok:"))

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

    /// An import of stored events prepares lines a run (4,096 lines) ahead and writes each full
    /// batch while the lines after it are checked: with batches of 300 events, an export of
    /// over 5,000 lines imports whole and equal; with one reward altered (chain recomputed), it
    /// stops at that line with the batches before it written, and nothing after them.
    @Test func storedEventsImportInBatchesWrittenAheadAndStopAtTheFirstDifference() throws {
        let directory = try TemporaryDirectory("stored-batches")
        defer { directory.remove() }
        let exported = try Self.importAndExport(seed: 11, count: 5000, in: directory).exported
        let rewards = try exported.indices.filter { try StoredEvent(parsing: exported[$0]).type == "reward" }
        let target = try #require(rewards.first { $0 > 5 * 300 + 150 }, "a reward past the fifth batch")
        var importer = Importer()
        importer.batchEvents = 300

        // Imports `lines` into a new data directory `name` with `importer`; returns its log's
        // head seq and hash, and the error that stopped it, if any.
        func importLines(
            _ lines: [[UInt8]],
            into name: String,
            options: EventLog.Options = EventLog.Options()
        ) throws -> (EventLog.Head, (any Error)?) {
            let file = directory.appending(name + ".ndjson")
            try Data(lines.flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: file))
            let descriptor = open(file, O_RDONLY)
            defer { close(descriptor) }
            let log = try EventLog.open(directory: directory.appending(name), readOnly: false, options: options)
            defer { log.close() }
            do {
                let (_, storedEvents) = try importer.run(from: try LineReader(fileDescriptor: descriptor), into: log) {
                    _ in
                }
                #expect(storedEvents)
                return (try log.head(), nil)
            } catch {
                return (try log.head(), error)
            }
        }

        let (whole, failure) = try importLines(exported, into: "b")
        #expect(failure == nil, "\(String(describing: failure))")
        #expect(whole.seq == UInt64(exported.count))
        #expect(whole.hashHex == (try StoredEvent.hash(of: exported.last!)))

        let (stopped, mismatch) = try importLines(try rechained(exported, altering: target), into: "c")
        let error = try #require(mismatch as? Importer.Mismatch)
        #expect(error.line == target + 1, "\(error)")
        #expect(error.message.contains("differs from what the ledger derives"), "\(error)")
        #expect(stopped.seq == UInt64(target / 300 * 300), "the full batches before the line, no more")
        #expect(stopped.hashHex == (try StoredEvent.hash(of: exported[target / 300 * 300 - 1])))

        // A batch that cannot be written (the map at its limit) is what is reported, though a
        // later line differs and is checked while that batch is being written.
        let small = EventLog.Options(initialMapSizeBytes: 1 << 20, maxMapSizeBytes: 1 << 20)
        let (full, fullError) = try importLines(exported, into: "d", options: small)
        #expect((fullError as? StoreError)?.code == .storageFull, "\(String(describing: fullError))")
        let written = Int(full.seq)
        #expect(written % 300 == 0 && written > 0)
        let late = try #require(
            rewards.first { $0 > written + 300 && $0 < written + 600 },
            "a reward in the batch after"
        )
        let (fullAgain, fullAgainError) = try importLines(
            try rechained(exported, altering: late),
            into: "e",
            options: small
        )
        #expect((fullAgainError as? StoreError)?.code == .storageFull, "\(String(describing: fullAgainError))")
        #expect(fullAgain.seq == full.seq)
    }

    /// Imports `count` generated facts with `refledger import` into `directory`'s `a`, and
    /// exports them: the data directory and the export's lines.
    private static func importAndExport(
        seed: UInt64,
        count: Int,
        in directory: TemporaryDirectory
    ) throws -> (data: String, exported: [[UInt8]]) {
        let (lines, _) = generatedLines(seed: seed, count: count)
        let facts = directory.appending("facts.ndjson")
        try writeNDJSON(lines, to: facts)
        let data = directory.appending("a")
        _ = try runCommand("refledger", ["import", facts, "--data", data])
        let export = directory.appending("a.zst")
        #expect(try runCommand("refledger", ["export", "--data", data, "-o", export]).status == 0)
        return (data, try readLines(export))
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
