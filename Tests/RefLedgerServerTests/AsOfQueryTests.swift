import Foundation
import RefLedgerCore
import RefLedgerServer
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// Queries below the head: the daemon keeps the ledgers of the last ones (one by default,
/// `--as-of-ledgers N`), answers a kept seq from its ledger and folds the nearest kept one
/// below on to a later seq, and the answers are a fresh replay's either way.
@Suite struct AsOfQueryTests {
    @Test func answersBelowTheHeadEqualAFreshReplayWhateverLedgerTheyStartFrom() throws {
        let (daemon, events) = try Self.daemonWithTraffic()
        defer { daemon.finish() }
        let head = events.count
        let isDerived = events.map { $0["cause"] != nil }
        func boundary(from seq: Int) -> Int { Self.boundary(from: seq, events: events) }
        let inside = try #require(
            (head / 2..<head - 1).first { isDerived[$0] },
            "a fact that derived events"
        )
        // Each step: the seq, and the ledger it should be answered from (the kept ledger at the
        // same seq, the kept one folded on, or a replay from the start: there is no snapshot).
        try Self.walk(
            daemon,
            events: events,
            [
                (boundary(from: head / 4), "start"),
                (boundary(from: head / 4), "kept"),
                (boundary(from: head / 3), "resumed"),
                (inside, "resumed"),  // ends inside a derivation: cannot be folded on
                (inside, "kept"),
                (boundary(from: inside), "start"),
                (boundary(from: head * 2 / 3), "resumed"),
                (3, "start"),  // before the kept one
            ]
        )
    }

    /// With two kept, two seqs asked in turn are both answered from their ledgers, a later seq
    /// goes on from the nearer, and the least recently used is dropped; with none kept, every
    /// query replays.
    @Test func twoKeptLedgersServeTwoSeqsInTurnAndNoneKeptReplaysEachTime() throws {
        let (two, events) = try Self.daemonWithTraffic(arguments: ["--as-of-ledgers", "2"])
        defer { two.finish() }
        let head = events.count
        let (a, b, c) = (
            Self.boundary(from: head / 4, events: events), Self.boundary(from: head / 2, events: events),
            Self.boundary(from: head * 3 / 4, events: events)
        )
        try Self.walk(
            two,
            events: events,
            [(a, "start"), (b, "resumed"), (a, "kept"), (b, "kept"), (c, "resumed"), (a, "start"), (c, "kept")]
        )

        let (none, _) = try Self.daemonWithTraffic(arguments: ["--as-of-ledgers", "0"])
        defer { none.finish() }
        try Self.walk(none, events: events, [(a, "start"), (a, "start"), (b, "start")], keeping: false)
    }

    /// `--as-of-ledgers` outside 0…64 is refused before the daemon starts.
    @Test func serveRefusesAnAsOfLedgersOutOfRange() throws {
        try expectServeRefuses(["--as-of-ledgers", "65"], saying: "--as-of-ledgers must be 0…64.")
    }

    /// The first seq at or after `seq` that ends a fact's derivation (the next event is not
    /// derived), at most the head.
    static func boundary(from seq: Int, events: [[String: Any]]) -> Int {
        var seq = seq
        while seq < events.count && events[seq]["cause"] != nil { seq += 1 }
        return seq
    }

    /// A daemon that took 3,000 generated facts, and its stored events.
    static func daemonWithTraffic(arguments: [String] = []) throws -> (DaemonHarness, [[String: Any]]) {
        let daemon = try DaemonHarness("asof", arguments: arguments)
        let client = daemon.client()
        let lines = TrafficGenerator.facts(seed: 12, count: 3000)
        for start in stride(from: 0, to: lines.count, by: 500) {
            #expect(try client.postBatch(Array(lines[start..<min(start + 500, lines.count)])).status == 200)
        }
        let events = try client.get("/v1/events?after=0&limit=100000").text.split(separator: "\n").map {
            jsonObject(String($0))
        }
        #expect(events.count > 2000)
        return (daemon, events)
    }

    /// Asks each step's queries; every answer must equal one from a fresh replay, and
    /// `/metrics` must count the first query of each step as answered `from` where the step
    /// says, the others from the ledger kept by the first (`keeping`) or like the first.
    static func walk(
        _ daemon: DaemonHarness,
        events: [[String: Any]],
        _ steps: [(asOf: Int, from: String)],
        keeping: Bool = true
    ) throws {
        let client = daemon.client()
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
            counts[step.from, default: 0] += 1
            counts[keeping ? "kept" : step.from, default: 0] += paths.count - 1
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
