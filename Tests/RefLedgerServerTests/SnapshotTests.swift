import Foundation
import RefLedgerServer
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// The daemon snapshots its ledger every `--snapshot-every` events and at graceful shutdown,
/// and starts from the newest snapshot plus the log after it.
@Suite struct SnapshotTests {
    @Test func restartsFromTheSnapshotAfterSIGKILLAndAfterSIGTERM() throws {
        // No idle snapshot: the slow queries below must not let one take the tail.
        let daemon = try DaemonHarness("sn", arguments: ["--snapshot-every", "1000", "--idle-snapshot-after", "0"])
        defer { daemon.finish() }
        let client = daemon.client()
        let lines = TrafficGenerator.facts(seed: 9, count: 3000)
        var acknowledged: [String] = []
        for start in stride(from: 0, to: lines.count, by: 250) {
            let (status, results) = try client.postBatch(Array(lines[start..<min(start + 250, lines.count)]))
            #expect(status == 200)
            for result in results where jsonObject(result)["status"] as? String == "created" {
                acknowledged.append(jsonObject(result)["id"] as? String ?? "")
            }
        }
        let head = try #require(client.metric("refledger_head_seq"))
        #expect(head > 2500)
        try waitFor("a snapshot is written") { (client.metric("refledger_snapshot_seq") ?? 0) > 0 }
        let queries = try self.queries(client, head: Int(head))
        let before = try queries.map { try client.get($0).text }

        daemon.killHard()
        try daemon.restart()
        let snapshotSeq = try #require(daemon.client().metric("refledger_restore_snapshot_seq"))
        #expect(snapshotSeq >= 1000 && snapshotSeq < head, "the newest snapshot is below the head: a tail to replay")
        #expect(daemon.client().metric("refledger_restore_replayed_events") == head - snapshotSeq)
        #expect(daemon.client().metric("refledger_head_seq") == head)
        let log = try EventLog.open(directory: daemon.dataPath, readOnly: true)
        let missing = try acknowledged.filter { try log.seq(forID: $0) == nil }
        log.close()
        #expect(missing.isEmpty, "\(missing.count) of \(acknowledged.count) acknowledged facts are missing")
        #expect(try queries.map { try daemon.client().get($0).text } == before)

        // SIGTERM snapshots the final state: the next start replays nothing.
        #expect(daemon.terminate() == 0)
        try daemon.restart()
        #expect(daemon.client().metric("refledger_restore_snapshot_seq") == head)
        #expect(daemon.client().metric("refledger_restore_replayed_events") == 0)
        #expect(try queries.map { try daemon.client().get($0).text } == before)
        #expect(daemon.terminate() == 0)

        let verify = try runCommand("refledger", ["verify", "--data", daemon.dataPath])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("2 snapshots equal the replayed state"), "\(verify.output)")
    }

    /// A tail of at least a tenth of `--snapshot-every` is snapshotted once the writer was idle
    /// for `--idle-snapshot-after` seconds: a crash then replays nothing.
    @Test func anIdleDaemonSnapshotsItsTail() throws {
        let daemon = try DaemonHarness("idle", arguments: ["--snapshot-every", "1000", "--idle-snapshot-after", "1"])
        defer { daemon.finish() }
        let client = daemon.client()
        #expect(try client.postBatch(TrafficGenerator.facts(seed: 9, count: 250)).status == 200)
        let head = try #require(client.metric("refledger_head_seq"))
        #expect(head >= 100 && head < 1000, "a tail below --snapshot-every, above a tenth of it")
        try waitFor("an idle snapshot") { client.metric("refledger_snapshot_seq") == head }

        daemon.killHard()
        try daemon.restart()
        #expect(daemon.client().metric("refledger_restore_snapshot_seq") == head)
        #expect(daemon.client().metric("refledger_restore_replayed_events") == 0)
        #expect(daemon.client().metric("refledger_head_seq") == head)
    }

    /// Idle snapshots after short bursts do not push out the periodic one below them: it is
    /// kept while the snapshot before the newest is less than `--snapshot-every` above it.
    @Test func idleSnapshotsKeepThePeriodicOneBelowThem() throws {
        let daemon = try DaemonHarness(
            "idlekeep",
            arguments: ["--snapshot-every", "1000", "--idle-snapshot-after", "1"]
        )
        defer { daemon.finish() }
        let client = daemon.client()
        let lines = TrafficGenerator.facts(seed: 9, count: 1700)
        var heads: [Double] = []
        for range in [0..<1100, 1100..<1300, 1300..<1500, 1500..<1700] {
            #expect(try client.postBatch(Array(lines[range])).status == 200)
            let head = try #require(client.metric("refledger_head_seq"))
            try waitFor("a snapshot at \(head)") { client.metric("refledger_snapshot_seq") == head }
            heads.append(head)
        }
        #expect(heads[0] >= 1000 && heads[3] - heads[0] < 1000, "one periodic snapshot, then three idle ones")
        let log = try EventLog.open(directory: daemon.dataPath, readOnly: true)
        defer { log.close() }
        let kept = try log.snapshotSeqs().map { Double($0) }
        #expect(kept == [heads[0], heads[2], heads[3]], "heads \(heads)")
    }

    /// No idle snapshot for a tail under a tenth of `--snapshot-every`, nor with
    /// `--idle-snapshot-after 0`.
    @Test(arguments: [(facts: 40, idleSeconds: "1"), (facts: 250, idleSeconds: "0")])
    func noIdleSnapshotForAShortTailOrWhenOff(facts: Int, idleSeconds: String) throws {
        let daemon = try DaemonHarness(
            "idle\(idleSeconds)",
            arguments: ["--snapshot-every", "1000", "--idle-snapshot-after", idleSeconds]
        )
        defer { daemon.finish() }
        let client = daemon.client()
        #expect(try client.postBatch(TrafficGenerator.facts(seed: 9, count: facts)).status == 200)
        let head = try #require(client.metric("refledger_head_seq"))
        #expect(head > 0 && head < 1000)
        #expect((head >= 100) == (facts == 250), "the tail is short only in the short-tail case")
        usleep(2_500_000)
        #expect((client.metric("refledger_snapshot_seq") ?? 0) == 0)
        #expect(try client.post(Facts.program).status == 201, "the writer still takes facts")
    }

    /// `--idle-snapshot-after` outside 0…86400 is refused before the daemon starts.
    @Test(arguments: ["--idle-snapshot-after=-1", "--idle-snapshot-after=86401"])
    func serveRefusesAnIdleSnapshotAfterOutOfRange(option: String) throws {
        try expectServeRefuses([option], saying: "--idle-snapshot-after must be 0…86400.")
    }

    /// Participant views (holds judged at a fixed time), metrics and leaderboards of every
    /// program, at the head and as of an earlier seq.
    private func queries(_ client: UnixHTTPClient, head: Int) throws -> [String] {
        let events = try client.get("/v1/events?after=0&limit=100000").text.split(separator: "\n").map {
            jsonObject(String($0))
        }
        #expect(events.count == head)
        var paths: [String] = []
        for event in events where event["type"] as? String == "signup" {
            if let program = event["program"] as? String, let participant = event["participant"] as? String {
                paths.append("/v1/programs/\(program)/participants/\(participant)?at=2026-06-01T00:00:00Z")
            }
        }
        let programs = Set(events.compactMap { $0["program"] as? String })
        #expect(programs.count > 1)
        for program in programs.sorted() {
            for suffix in ["", "?as_of=\(head * 2 / 3)"] {
                paths += [
                    "/v1/programs/\(program)/metrics\(suffix)",
                    "/v1/programs/\(program)/leaderboard\(suffix.isEmpty ? "?" : suffix + "&")by=rewards&limit=1000",
                ]
            }
        }
        #expect(paths.count > 100)
        return paths
    }

    private func waitFor(_ what: String, seconds: Double = 30, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw HarnessError("timed out waiting until \(what)") }
            usleep(20_000)
        }
    }
}
