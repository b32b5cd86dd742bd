import Foundation
import RefLedgerServer
import RefLedgerTestSupport
import Testing

@Suite struct BatchTests {
    @Test func batchLinesSeeEarlierLinesAndFailedLinesStoreNothing() throws {
        let daemon = try DaemonHarness("nd")
        defer { daemon.finish() }
        let client = daemon.client()
        let lines = [
            Facts.program, Facts.alice, "", "   ", Facts.alice,
            #"{"id":"s3","type":"signup","program":"shop","time":"2026-11-02T00:00:00Z","participant":"alice"}"#,
            "not json", #"{"id":7}"#, #"{"id":"bad id!","type":"invite"}"#,
            #"{"id":"big","type":"invite","x":"\#(String(repeating: "a", count: 70_000))"}"#,
            Facts.click, Facts.bob, Facts.conversion,
        ]
        let (status, results) = try client.postBatch(lines)
        #expect(status == 200)
        #expect(results.count == lines.count - 2)
        let objects = results.map(jsonObject)
        #expect(objects[0]["status"] as? String == "created")
        #expect(objects[1]["status"] as? String == "created")
        // The same fact twice in one batch: the second is a duplicate with the first result.
        #expect(objects[2]["status"] as? String == "duplicate")
        #expect(objects[2]["seq"] as? Int == 2)
        // A later line sees the earlier ones.
        #expect(objects[3]["status"] as? Int == 409 && objects[3]["id"] as? String == "s3")
        #expect(errorCode(results[3]) == "participant_exists")
        // No id for bad_json; no id when `id` is not a string; a readable id even if it breaks the rule.
        #expect(objects[4]["id"] == nil && errorCode(results[4]) == "bad_json" && objects[4]["status"] as? Int == 400)
        #expect(objects[5]["id"] == nil && objects[5]["status"] as? Int == 400)
        #expect(objects[6]["id"] as? String == "bad id!")
        #expect(objects[7]["id"] == nil && errorCode(results[7]) == "too_large" && objects[7]["status"] as? Int == 413)
        #expect(objects[8]["seq"] as? Int == 3)
        #expect(objects[9]["attribution"] as? String == "click")
        #expect((objects[10]["derived"] as? [Any])?.count == 2)
        #expect(jsonObject(try client.get("/v1/health").text)["seq"] as? Int == 7)
        // Events are stored gaplessly: the failed lines took no seq.
        let events = try client.get("/v1/events").text.split(separator: "\n").map { jsonObject(String($0)) }
        #expect(events.map { $0["seq"] as? Int } == Array(1...7))
        #expect(events.map { $0["id"] as? String } == ["p1", "s1", "k1", "s2", "c1", "c1/1", "c1/2"])

        // A whole batch again: every line a duplicate with its first result.
        let (_, again) = try client.postBatch([Facts.program, Facts.conversion])
        #expect(
            again[1] == results[10].replacingOccurrences(of: #""status":"created""#, with: #""status":"duplicate""#)
        )
        // Empty batch: 200, no lines. Body over the batch limit is not tested here (64 MiB).
        let empty = try client.request(
            "POST",
            "/v1/events",
            body: Array("\n\n".utf8),
            contentType: "application/x-ndjson"
        )
        #expect(empty.status == 200 && empty.body.isEmpty)
        // CRLF line endings work.
        let crlf = try client.request(
            "POST",
            "/v1/events",
            body: Array((Facts.invite("i1") + "\r\n" + Facts.invite("i2") + "\r\n").utf8),
            contentType: "application/x-ndjson"
        )
        #expect(crlf.text.split(separator: "\n").count == 2 && !crlf.text.contains("error"))
    }

    @Test func eventsListingAfterAndLimit() throws {
        let daemon = try DaemonHarness("ls")
        defer { daemon.finish() }
        let client = daemon.client()
        _ = try client.postBatch(Facts.base + (1...2000).map { Facts.invite("i\($0)") })
        let head = 2007
        func seqs(_ target: String) throws -> [Int] {
            try client.get(target).text.split(separator: "\n").map { jsonObject(String($0))["seq"] as? Int ?? -1 }
        }
        #expect(try seqs("/v1/events") == Array(1...1000))
        #expect(try seqs("/v1/events?after=1500&limit=5000") == Array(1501...head))
        #expect(try seqs("/v1/events?after=5&limit=3") == [6, 7, 8])
        #expect(try seqs("/v1/events?after=\(head)") == [])
        #expect(try seqs("/v1/events?after=99999999999") == [])
        // An integer beyond every seq (even beyond 64 bits) is still after them all.
        #expect(try seqs("/v1/events?after=99999999999999999999999") == [])
        #expect(try client.get("/v1/events?limit=99999999999999999999999").status == 400)
        // Every line is the full stored event with prev and hash, chained.
        let lines = try client.get("/v1/events?after=0&limit=100000").text.split(separator: "\n").map {
            jsonObject(String($0))
        }
        #expect(lines.count == head)
        for (previous, event) in zip(lines, lines.dropFirst()) {
            #expect(event["prev"] as? String == previous["hash"] as? String)
        }
    }

    @Test func followStreamsEveryCommitInOrderWithoutGaps() throws {
        let daemon = try DaemonHarness("fo")
        defer { daemon.finish() }
        _ = try daemon.client().postBatch(Facts.base)
        let writers = 4
        let perWriter = 150
        let followers = (0..<3).map { index in
            Follower(socket: daemon.socketPath, after: index == 2 ? 3 : 0, limit: nil)
        }
        let limited = Follower(socket: daemon.socketPath, after: 0, limit: 10)
        for follower in followers + [limited] { follower.start() }
        usleep(200_000)
        concurrently(writers) { writer in
            let client = daemon.client()
            for index in 0..<perWriter {
                if index % 10 == 0 {
                    _ = try? client.postBatch((0..<5).map { Facts.invite("w\(writer)-\(index)-\($0)") })
                } else {
                    _ = try? client.post(Facts.invite("w\(writer)-\(index)"))
                }
            }
        }
        let expected = 7 + writers * (perWriter - perWriter / 10) + writers * (perWriter / 10) * 5
        for follower in followers { follower.waitFor(count: expected - (follower.after == 3 ? 3 : 0), seconds: 30) }
        let stored = try daemon.client().get("/v1/events?limit=100000").text.split(separator: "\n").map(String.init)
        #expect(stored.count == expected)
        #expect(followers[0].lines == stored)
        #expect(followers[1].lines == stored)
        #expect(followers[2].lines == Array(stored.dropFirst(3)))
        limited.waitUntilDone(seconds: 30)
        #expect(limited.lines == Array(stored.prefix(10)))
        #expect(limited.finished)
        // Shutdown ends the open follow streams; the daemon exits 0.
        #expect(daemon.terminate() == 0)
        for follower in followers { follower.waitUntilDone(seconds: 30) }
        #expect(followers.allSatisfy { $0.finished })
    }
}

/// A thread that reads a follow stream into lines.
final class Follower: @unchecked Sendable {
    // @unchecked: `received` and `done` are guarded by `condition`.
    let socket: String
    let after: Int
    let limit: Int?
    private let condition = NSCondition()
    private var received: [String] = []
    private var done = false

    init(socket: String, after: Int, limit: Int?) {
        self.socket = socket
        self.after = after
        self.limit = limit
    }

    func start() {
        Thread { [self] in
            let client = UnixHTTPClient(socketPath: socket, timeoutSeconds: 60)
            var pending: [UInt8] = []
            let target = "/v1/events?follow=true&after=\(after)" + (limit.map { "&limit=\($0)" } ?? "")
            _ = try? client.stream("GET", target) { chunk in
                pending.append(contentsOf: chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    condition.lock()
                    received.append(line)
                    condition.broadcast()
                    condition.unlock()
                }
                return true
            }
            condition.lock()
            done = true
            condition.broadcast()
            condition.unlock()
        }.start()
    }

    var lines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return received
    }

    var finished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return done
    }

    func waitFor(count: Int, seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        while received.count < count && !done && condition.wait(until: deadline) {}
        condition.unlock()
    }

    func waitUntilDone(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        while !done && condition.wait(until: deadline) {}
        condition.unlock()
    }
}
