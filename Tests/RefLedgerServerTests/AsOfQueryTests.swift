import Foundation
import RefLedgerCore
import RefLedgerServer
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// Queries below the head: the daemon keeps the ledger of the last one, answers the same seq
/// from it and folds it on to a later seq, and the answers are a fresh replay's either way.
@Suite struct AsOfQueryTests {
    @Test func answersBelowTheHeadEqualAFreshReplayWhateverLedgerTheyStartFrom() throws {
        let daemon = try DaemonHarness("asof")
        defer { daemon.finish() }
        let client = daemon.client()
        let lines = TrafficGenerator.facts(seed: 12, count: 3000)
        for start in stride(from: 0, to: lines.count, by: 500) {
            #expect(try client.postBatch(Array(lines[start..<min(start + 500, lines.count)])).status == 200)
        }
        let events = try client.get("/v1/events?after=0&limit=100000").text.split(separator: "\n").map {
            jsonObject(String($0))
        }
        let head = events.count
        #expect(head > 2000)
        let isDerived = events.map { $0["cause"] != nil }
        /// The first seq at or after `seq` that ends a fact's derivation.
        func boundary(from seq: Int) -> Int {
            var seq = seq
            while seq < head && isDerived[seq] { seq += 1 }
            return seq
        }
        let inside = try #require(
            (head / 2..<head - 1).first { isDerived[$0] },
            "a fact that derived events"
        )

        // Each step: the seq, and the ledger it should be answered from (the kept ledger at the
        // same seq, the kept one folded on, or a replay from the start: there is no snapshot).
        let steps: [(asOf: Int, from: String)] = [
            (boundary(from: head / 4), "start"),
            (boundary(from: head / 4), "kept"),
            (boundary(from: head / 3), "resumed"),
            (inside, "resumed"),  // ends inside a derivation: cannot be folded on
            (inside, "kept"),
            (boundary(from: inside), "start"),
            (boundary(from: head * 2 / 3), "resumed"),
            (3, "start"),  // before the kept one
        ]
        let log = try EventLog.open(directory: daemon.dataPath, readOnly: true)
        defer { log.close() }
        var counts: [String: Int] = [:]
        for step in steps {
            let expected = try LedgerReplay.replay(log, through: UInt64(step.asOf))
            let paths = Self.queryPaths(events: events, asOf: step.asOf)
            for path in paths {
                let response = try client.get(path)
                let query = try Query(
                    kind: Self.kind(of: path),
                    parameters: QueryString.parse(path.split(separator: "?").last.map(String.init))
                )
                do {
                    let body = try query.answer(from: expected, seq: UInt64(step.asOf), now: Timestamp.now())
                    #expect(response.status == 200, "\(path)")
                    #expect(
                        response.text == String(decoding: ResponseJSON.encode(.object(body)), as: UTF8.self),
                        "\(path)"
                    )
                } catch {
                    #expect(response.status == 404 && errorCode(response.text) == error.code.rawValue, "\(path)")
                }
            }
            // The first query of a step makes the ledger; the others find it kept.
            counts[step.from, default: 0] += 1
            counts["kept", default: 0] += paths.count - 1
            for source in ["kept", "resumed", "start", "snapshot"] {
                #expect(
                    Int(client.metric("refledger_asof_queries_total{from=\"\(source)\"}") ?? -1) == counts[source] ?? 0,
                    "as of \(step.asOf): \(source)"
                )
            }
        }
    }

    /// Metrics and the leaderboard of every program, and the views of some participants (holds
    /// judged at a fixed time), as of `asOf`.
    static func queryPaths(events: [[String: Any]], asOf: Int) -> [String] {
        let programs = Set(events.compactMap { $0["program"] as? String }).sorted()
        var paths = programs.flatMap {
            [
                "/v1/programs/\($0)/metrics?as_of=\(asOf)",
                "/v1/programs/\($0)/leaderboard?as_of=\(asOf)&by=rewards&limit=1000",
            ]
        }
        let signups = events.filter { $0["type"] as? String == "signup" }
        for signup in stride(from: 0, to: signups.count, by: max(1, signups.count / 15)).map({ signups[$0] }) {
            if let program = signup["program"] as? String, let participant = signup["participant"] as? String {
                paths.append(
                    "/v1/programs/\(program)/participants/\(participant)?as_of=\(asOf)&at=2026-06-01T00:00:00Z"
                )
            }
        }
        return paths
    }

    /// The query kind of a path.
    static func kind(of path: String) -> Query.Kind {
        let segments = path.split(separator: "?")[0].split(separator: "/").map(String.init)
        switch segments[3] {
        case "metrics": return .metrics(program: segments[2])
        case "leaderboard": return .leaderboard(program: segments[2])
        default: return .participant(program: segments[2], id: segments[4])
        }
    }
}
