import Foundation
import RefLedgerServer
import RefLedgerTestSupport
import Testing

@Suite struct EndpointTests {
    @Test func healthDigestMetricsAndUnknownRoutes() throws {
        let daemon = try DaemonHarness("ep")
        defer { daemon.finish() }
        let client = daemon.client()
        let health = try client.get("/v1/health")
        #expect(health.status == 200)
        #expect(health.text == #"{"status":"ok","seq":0}"#)
        #expect(try client.get("/v1/digest").text == #"{"seq":0,"hash":"\#(String(repeating: "0", count: 64))"}"#)
        for fact in Facts.base { #expect(try client.post(fact).status == 201) }
        let digest = jsonObject(try client.get("/v1/digest").text)
        #expect(digest["seq"] as? Int == 7)
        #expect((digest["hash"] as? String)?.count == 64)
        let offline = try runCommand("refledger", ["digest", "--data", daemon.dataPath])
        let online = try runCommand("refledger", ["digest", "--socket", daemon.socketPath])
        #expect(online.status == 0 && online.output == offline.output)

        let metrics = try client.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)
        for name in [
            #"refledger_events_total{type="signup"} 2"#, #"refledger_events_total{type="reward"} 2"#,
            "refledger_commit_duration_seconds_bucket", "refledger_commit_facts_count", "refledger_queue_facts",
        ] {
            #expect(metrics.text.contains(name), "\(name) in \(metrics.text)")
        }
        _ = try client.post(#"{"id":"x"}"#)
        #expect(try client.get("/metrics").text.contains(#"refledger_rejects_total{code="missing_field"} 1"#))

        for (method, path) in [
            ("GET", "/nope"), ("GET", "/v1/events/1"), ("DELETE", "/v1/events"), ("POST", "/v1/health"),
        ] {
            let response = try client.request(method, path)
            #expect(response.status == 404, "\(method) \(path)")
            #expect(errorCode(response.text) == "not_found")
        }
    }

    @Test func singleFactsCreatedDuplicateAndConflict() throws {
        let daemon = try DaemonHarness("one")
        defer { daemon.finish() }
        let client = daemon.client()
        let program = try client.post(Facts.program)
        #expect(program.status == 201)
        #expect(program.text == #"{"seq":1,"id":"p1","status":"created","derived":[]}"#)
        let alice = try client.post(Facts.alice)
        #expect(
            alice.text == #"{"seq":2,"id":"s1","status":"created","code":"ALICE","attribution":"none","derived":[]}"#
        )
        _ = try client.post(Facts.click)
        let bob = jsonObject(try client.post(Facts.bob).text)
        #expect(bob["attribution"] as? String == "click")
        #expect((bob["code"] as? String)?.count == 8)

        let conversion = try client.post(Facts.conversion)
        #expect(conversion.status == 201)
        let result = jsonObject(conversion.text)
        let derived = result["derived"] as? [[String: Any]] ?? []
        #expect(derived.count == 2)
        #expect(derived.map { $0["id"] as? String } == ["c1/1", "c1/2"])
        #expect(derived.allSatisfy { ($0["hash"] as? String)?.count == 64 && ($0["prev"] as? String)?.count == 64 })
        // The derived events are exactly what the log returns.
        let stored = try client.get("/v1/events?after=5&limit=2").text.split(separator: "\n").map(String.init)
        let rederived = try JSONSerialization.data(withJSONObject: derived, options: [.sortedKeys])
        let fromLog = try JSONSerialization.data(
            withJSONObject: stored.map { jsonObject($0) },
            options: [.sortedKeys]
        )
        #expect(rederived == fromLog)

        // The same fact again: 200, the first result, nothing stored.
        let again = try client.post(Facts.conversion)
        #expect(again.status == 200)
        #expect(
            again.text
                == conversion.text.replacingOccurrences(of: #""status":"created""#, with: #""status":"duplicate""#)
        )
        let bobAgain = try client.post(Facts.bob)
        #expect(jsonObject(bobAgain.text)["code"] as? String == bob["code"] as? String)
        // Re-posting the assigned code is other content: id_conflict.
        let withCode = Facts.bob.replacingOccurrences(
            of: #""visitor":"vb"}"#,
            with: #""visitor":"vb","code":"\#(bob["code"] as? String ?? "")"}"#
        )
        #expect(try client.post(withCode).status == 409)
        let conflict = try client.post(Facts.conversion.replacingOccurrences(of: "10000", with: "10001"))
        #expect(conflict.status == 409)
        #expect(errorCode(conflict.text) == "id_conflict")
        #expect(jsonObject(try client.get("/v1/health").text)["seq"] as? Int == 7)
    }

    /// Every error code of SPEC §6 over HTTP, with its status.
    @Test func everyErrorCodeWithItsStatus() throws {
        let daemon = try DaemonHarness("err")
        defer { daemon.finish() }
        let client = daemon.client()
        let setup =
            Facts.base + [
                #"{"id":"x1","type":"payout","program":"shop","time":"2026-11-06T00:00:00Z","participant":"alice","payout":"pay1","amount":100,"currency":"USD"}"#,
                #"{"id":"x2","type":"payout_settled","program":"shop","time":"2026-11-07T00:00:00Z","payout":"pay1"}"#,
            ]
        for fact in setup { #expect(try client.post(fact).status == 201, "\(fact)") }
        let t = #""time":"2026-11-08T00:00:00Z""#
        let cases: [(String, Int, String)] = [
            (#"{"id":"e1","type":"invite""#, 400, "bad_json"),
            (
                #"{"id":"e1","id":"e2","type":"invite","program":"shop",\#(t),"participant":"alice","channel":"email"}"#,
                400, "bad_json"
            ),
            (
                #"{"id":"e1","type":"invite","program":"shop",\#(t),"participant":"alice","channel":"email","x":1}"#,
                400, "unknown_field"
            ),
            (#"{"id":"e1","type":"invite","program":"shop",\#(t),"channel":"email"}"#, 400, "missing_field"),
            (
                #"{"id":"e1","type":"invite","program":"shop",\#(t),"participant":"alice","channel":"pigeon"}"#, 400,
                "bad_value"
            ),
            (#"{"id":"e1","type":"bogus","program":"shop",\#(t)}"#, 400, "unknown_type"),
            (#"{"id":"e1","type":"reward","program":"shop",\#(t)}"#, 400, "derived_type"),
            (
                #"{"id":"e1","type":"invite","program":"shop","time":"2099-01-01T00:00:00Z","participant":"alice","channel":"email"}"#,
                400, "future_time"
            ),
            (
                #"{"id":"e1","type":"invite","program":"shop",\#(t),"participant":"alice","channel":"email","invitee":"\#(String(repeating: "a", count: 70_000))"}"#,
                413, "too_large"
            ),
            (
                #"{"id":"s1","type":"signup","program":"shop","time":"2026-11-02T00:00:00Z","participant":"carol"}"#,
                409, "id_conflict"
            ),
            (#"{"id":"e1","type":"signup","program":"shop",\#(t),"participant":"alice"}"#, 409, "participant_exists"),
            (
                #"{"id":"e1","type":"signup","program":"shop",\#(t),"participant":"carol","code":"alice"}"#, 409,
                "code_taken"
            ),
            (
                #"{"id":"e1","type":"conversion","program":"shop",\#(t),"participant":"bob","order":"o1","amount":5,"currency":"USD"}"#,
                409, "duplicate_order"
            ),
            (
                #"{"id":"e1","type":"payout","program":"shop",\#(t),"participant":"alice","payout":"pay1","amount":5,"currency":"USD"}"#,
                409, "duplicate_payout"
            ),
            (#"{"id":"e1","type":"payout_settled","program":"shop",\#(t),"payout":"pay1"}"#, 409, "payout_finished"),
            (
                #"{"id":"e1","type":"invite","program":"nope",\#(t),"participant":"alice","channel":"email"}"#, 422,
                "unknown_program"
            ),
            (
                #"{"id":"e1","type":"invite","program":"shop",\#(t),"participant":"zed","channel":"email"}"#, 422,
                "unknown_participant"
            ),
            (#"{"id":"e1","type":"click","program":"shop",\#(t),"code":"NOPE1","visitor":"v9"}"#, 422, "unknown_code"),
            (#"{"id":"e1","type":"refund","program":"shop",\#(t),"order":"o9","amount":5}"#, 422, "unknown_order"),
            (#"{"id":"e1","type":"payout_failed","program":"shop",\#(t),"payout":"pay9"}"#, 422, "unknown_payout"),
            (#"{"id":"e1","type":"refund","program":"shop",\#(t),"order":"o1","amount":20000}"#, 422, "over_refund"),
            (
                #"{"id":"e1","type":"payout","program":"shop",\#(t),"participant":"alice","payout":"pay2","amount":1000000,"currency":"USD"}"#,
                422, "insufficient_funds"
            ),
            (
                #"{"id":"e1","type":"conversion","program":"shop",\#(t),"participant":"bob","order":"o2","amount":5,"currency":"EUR"}"#,
                422, "currency_mismatch"
            ),
        ]
        for (body, status, code) in cases {
            let response = try client.post(body)
            #expect(response.status == status, "\(code): \(response.text)")
            #expect(errorCode(response.text) == code, "\(code): \(response.text)")
            #expect(jsonObject(response.text).keys.sorted() == ["error"])
        }
        #expect(jsonObject(try client.get("/v1/health").text)["seq"] as? Int == setup.count + 2)
        // A field path where one is at fault.
        let badRules = try client.post(
            #"{"id":"p2","type":"program","program":"two","time":"2026-11-01T00:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1},"tiers":[{"min_referrals":0,"fixed":5}]}}"#
        )
        #expect(badRules.status == 400)
        #expect(
            (jsonObject(badRules.text)["error"] as? [String: Any])?["field"] as? String
                == "rules.tiers[0].min_referrals"
        )
        // Queries: 404 not_found, 400 bad_value naming the parameter.
        for path in [
            "/v1/programs/shop/participants/nobody", "/v1/programs/nope/metrics",
            "/v1/programs/shop/leaderboard?as_of=0",
        ] {
            let response = try client.get(path)
            #expect(response.status == 404 && errorCode(response.text) == "not_found", "\(path)")
        }
        for (path, field) in [
            ("/v1/programs/shop/metrics?from=yesterday", "from"), ("/v1/programs/shop/leaderboard?limit=0", "limit"),
            ("/v1/programs/shop/leaderboard?by=money", "by"),
            ("/v1/programs/shop/participants/alice?as_of=-1", "as_of"),
            ("/v1/events?limit=100001", "limit"), ("/v1/events?after=x", "after"), ("/v1/events?follow=yes", "follow"),
        ] {
            let response = try client.get(path)
            #expect(response.status == 400, "\(path)")
            #expect((jsonObject(response.text)["error"] as? [String: Any])?["field"] as? String == field, "\(path)")
        }
    }
}
