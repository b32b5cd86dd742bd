import Foundation
import RefLedgerServer
import RefLedgerTestSupport
import Testing

@Suite struct QueryTests {
    @Test func queriesAtTheHeadAndAsOf() throws {
        let daemon = try DaemonHarness("q")
        defer { daemon.finish() }
        let client = daemon.client()
        _ = try client.postBatch(Facts.base)
        let alice = try client.get("/v1/programs/shop/participants/alice")
        #expect(alice.status == 200)
        #expect(
            alice.text
                == #"{"program":"shop","participant":"alice","code":"ALICE","referrer":null,"signup_time":"2026-11-02T00:00:00.000Z","referees":1,"balance":{"pending":0,"earned":500,"reversed":0,"reserved":0,"currency":"USD","paid":0,"available":500}}"#
        )
        // Holds judged at `at`; as_of before the conversion: no rewards yet.
        let before = jsonObject(try client.get("/v1/programs/shop/participants/alice?as_of=4").text)
        #expect((before["balance"] as? [String: Any])?["earned"] as? Int == 0)
        #expect(try client.get("/v1/programs/shop/participants/bob?as_of=3").status == 404)
        let metrics = jsonObject(try client.get("/v1/programs/shop/metrics?as_of=99").text)
        #expect(metrics["as_of"] as? Int == 7)
        // Above the head, even beyond 64 bits: the head.
        let far = jsonObject(try client.get("/v1/programs/shop/metrics?as_of=99999999999999999999999").text)
        #expect(far["as_of"] as? Int == 7)
        #expect(jsonObject(try client.get("/v1/programs/shop/metrics?as_of=4").text)["as_of"] as? Int == 4)
        let window = jsonObject(
            try client.get("/v1/programs/shop/metrics?from=2026-11-03T01:00:00%2B01:00&to=2026-11-04T00:00:00Z").text
        )
        #expect(window["from"] as? String == "2026-11-03T00:00:00.000Z")
        #expect(window["participants"] as? Int == 1)
        // `+` is a literal plus, not a space.
        #expect(
            jsonObject(try client.get("/v1/programs/shop/metrics?from=2026-11-03T01:00:00+01:00").text)["participants"]
                as? Int == 1
        )
        let board = try client.get("/v1/programs/shop/leaderboard?by=rewards&limit=1")
        #expect(
            board.text
                == #"{"by":"rewards","rows":[{"participant":"bob","code":"\#(code(of: "bob", client))","referees":0,"rewards":1000}]}"#
        )
        #expect(try client.get("/v1/programs/shop/leaderboard?as_of=2").text == #"{"by":"referees","rows":[]}"#)
        // Read-your-writes: an answer after a 201 sees the fact.
        for index in 0..<20 {
            _ = try client.post(Facts.invite("r\(index)"))
            let view = jsonObject(try client.get("/v1/programs/shop/metrics").text)
            #expect(view["invites"] as? Int == index + 1)
        }
    }

    private func code(of participant: String, _ client: UnixHTTPClient) -> String {
        (try? jsonObject(client.get("/v1/programs/shop/participants/\(participant)").text)["code"] as? String) ?? ""
    }

    @Test func commandLineQueriesOverTheSocketPrintWhatTheDataDirectoryPrints() throws {
        let daemon = try DaemonHarness("cli")
        defer { daemon.finish() }
        _ = try daemon.client().postBatch(
            Facts.base + [
                #"{"id":"r1","type":"refund","program":"shop","time":"2026-11-05T00:00:00Z","order":"o1","amount":2500}"#
            ]
        )
        let queries: [[String]] = [
            ["participant", "shop", "alice"], ["participant", "shop", "bob", "--at", "2026-11-01T00:00:00Z"],
            ["metrics", "shop"], ["metrics", "shop", "--from", "2026-11-03T00:00:00+00:00", "--as-of", "6"],
            ["leaderboard", "shop", "--by", "rewards"], ["leaderboard", "shop", "--limit", "1"],
        ]
        for query in queries {
            for format in ["json", "csv", "table"] {
                let online = try runCommand(
                    "refledger",
                    ["query"] + query + ["--format", format, "--socket", daemon.socketPath]
                )
                let offline = try runCommand(
                    "refledger",
                    ["query"] + query + ["--format", format, "--data", daemon.dataPath]
                )
                #expect(online.status == 0, "\(query) \(format): \(online.stderr)")
                #expect(online.output == offline.output, "\(query) \(format)")
            }
        }
        let missing = try runCommand(
            "refledger",
            ["query", "participant", "shop", "nobody", "--socket", daemon.socketPath]
        )
        #expect(missing.status != 0 && missing.stderr.contains("not_found"))
        let both = try runCommand(
            "refledger",
            ["query", "metrics", "shop", "--socket", daemon.socketPath, "--data", daemon.dataPath]
        )
        #expect(both.status != 0)
    }

    @Test func postCommandPrintsResultLinesInOrderAndFailsOnAnyFailedLine() throws {
        let daemon = try DaemonHarness("post")
        defer { daemon.finish() }
        let file = daemon.directory.appending("facts.ndjson")
        let facts = Facts.base + (1...2500).map { Facts.invite("i\($0)") }
        try (facts.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let posted = try runCommand("refledger", ["post", file, "--socket", daemon.socketPath])
        #expect(posted.status == 0, "\(posted.stderr)")
        let lines = posted.output.split(separator: "\n").map { jsonObject(String($0)) }
        #expect(lines.count == facts.count)
        #expect(lines.map { $0["id"] as? String } == facts.map { jsonObject($0)["id"] as? String })
        #expect(lines.allSatisfy { $0["status"] as? String == "created" })
        // Again from standard input, with a bad line: duplicates succeed, the bad line fails.
        let input = Facts.program + "\nnot json\n" + Facts.invite("i1") + "\n"
        let again = try runCommand("refledger", ["post", "--socket", daemon.socketPath], input: Data(input.utf8))
        #expect(again.status == 1)
        let results = again.output.split(separator: "\n").map(String.init)
        #expect(results.count == 3)
        #expect(jsonObject(results[0])["status"] as? String == "duplicate")
        #expect(errorCode(results[1]) == "bad_json")
        #expect(jsonObject(results[2])["status"] as? String == "duplicate")
        let unreachable = try runCommand(
            "refledger",
            ["post", file, "--socket", daemon.directory.appending("none.sock")]
        )
        #expect(unreachable.status != 0 && unreachable.stderr.contains("cannot connect"))
    }
}
