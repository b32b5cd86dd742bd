import Foundation
import RefLedgerServer
import Testing

/// Requests at the edges of what SPEC §2 and §6 allow: the largest `after`, escapes that do
/// not decode, a body of exactly the size limit with its newline.
@Suite struct EdgeRequestTests {
    @Test func theLargestAfterAnswersNothingAndTheDaemonStaysUp() throws {
        let daemon = try DaemonHarness("after")
        defer { daemon.finish() }
        let client = daemon.client()
        for fact in Facts.base { #expect(try client.post(fact).status == 201) }
        let largest = "18446744073709551615"
        let events = try client.get("/v1/events?after=\(largest)")
        #expect(events.status == 200)
        #expect(events.text.isEmpty)
        // A follow stream after it stays open and sends nothing; the daemon goes on.
        let follower = daemon.client(timeoutSeconds: 1)
        #expect(throws: (any Error).self) { try follower.get("/v1/events?after=\(largest)&follow=true") }
        #expect(try client.post(Facts.invite("i1")).status == 201)
        // The base facts, the two rewards of its conversion, the invite.
        #expect(jsonObject(try client.get("/v1/health").text)["seq"] as? Int == Facts.base.count + 3)
    }

    @Test func aParameterWhoseEscapesDoNotDecodeIsABadValue() throws {
        let daemon = try DaemonHarness("escapes")
        defer { daemon.finish() }
        let client = daemon.client()
        for fact in Facts.base { #expect(try client.post(fact).status == 201) }
        let cases = [
            ("/v1/programs/shop/metrics?as_of=%ZZ", "as_of"), ("/v1/programs/shop/metrics?from=%", "from"),
            ("/v1/programs/shop/leaderboard?by=%FF", "by"), ("/v1/programs/shop/leaderboard?limit=%ZZ", "limit"),
            ("/v1/events?limit=%ZZ", "limit"), ("/v1/events?follow=%ZZ&limit=1", "follow"),
        ]
        for (target, field) in cases {
            let response = try client.get(target)
            #expect(response.status == 400, "\(target): \(response.text)")
            #expect(errorCode(response.text) == "bad_value", "\(target)")
            let error = jsonObject(response.text)["error"] as? [String: Any]
            #expect(error?["field"] as? String == field, "\(target): \(response.text)")
        }
        // An escape that decodes is read as its value.
        #expect(try client.get("/v1/programs/shop/leaderboard?by=%72ewards").status == 200)
    }

    @Test func aFinalNewlineIsNotCountedTowardTheSizeLimit() throws {
        let daemon = try DaemonHarness("size")
        defer { daemon.finish() }
        let client = daemon.client()
        for fact in Facts.base { #expect(try client.post(fact).status == 201) }
        // A fact padded with spaces (JSON whitespace) to exactly `bytes`.
        func fact(_ id: String, bytes: Int) -> String {
            let plain = Facts.invite(id)
            return String(plain.dropLast()) + String(repeating: " ", count: bytes - plain.utf8.count) + "}"
        }
        let limit = 65_536
        #expect(try client.post(fact("big1", bytes: limit) + "\n").status == 201)
        #expect(try client.post(fact("big1", bytes: limit) + "\r\n").status == 200)
        let over = try client.post(fact("big2", bytes: limit + 1) + "\n")
        #expect(over.status == 413)
        #expect(errorCode(over.text) == "too_large")
        #expect(try client.post(fact("big3", bytes: limit) + "\n\n").status == 413)
    }

    /// curl sends `Expect: 100-continue` before a body over 1 MB and waits a second for the
    /// answer before it sends the body anyway.
    @Test func aBodyThatWaitsForContinueIsAskedForAtOnce() throws {
        let daemon = try DaemonHarness("continue")
        defer { daemon.finish() }
        let body = Array((Facts.base.joined(separator: "\n") + "\n").utf8)
        let connection = try RawRequest.connect(daemon.socketPath)
        RawRequest.setReceiveTimeout(connection, seconds: 5)
        let head =
            "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"
            + "Content-Length: \(body.count)\r\nExpect: 100-Continue\r\n\r\n"
        try RawRequest.send(Array(head.utf8), on: connection)
        #expect(RawRequest.readHead(connection) == "HTTP/1.1 100 Continue\r\n\r\n")
        try RawRequest.send(body, on: connection)
        let response = RawRequest.readAll(connection)
        #expect(response.hasPrefix("HTTP/1.1 200"), "\(response)")
        #expect(response.components(separatedBy: #""status":"created""#).count - 1 == Facts.base.count)
    }

    /// A pipelining client's second request waits for the first's response to end: a
    /// `100 Continue` for it would land inside that response (here a follow stream, which
    /// does not end).
    @Test func continueIsNotSentWhileAnotherResponseIsOpen() throws {
        let daemon = try DaemonHarness("continue-pipelined")
        defer { daemon.finish() }
        let client = daemon.client()
        for fact in Facts.base { #expect(try client.post(fact).status == 201) }
        let connection = try RawRequest.connect(daemon.socketPath)
        defer { close(connection) }
        RawRequest.setReceiveTimeout(connection, seconds: 1)
        let requests =
            "GET /v1/events?after=0&follow=true HTTP/1.1\r\nHost: localhost\r\n\r\n"
            + "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        try RawRequest.send(Array(requests.utf8), on: connection)
        let received = RawRequest.readUntilQuiet(connection)
        #expect(received.hasPrefix("HTTP/1.1 200"), "\(received)")
        #expect(received.contains(#""id":"c1/2""#), "the follow stream sent the log")
        #expect(!received.contains("100 Continue"), "\(received)")
    }

    @Test func theQueueGaugeReadsZeroWhenAllIsAnswered() throws {
        let daemon = try DaemonHarness("gauge")
        defer { daemon.finish() }
        let client = daemon.client()
        for fact in Facts.base { #expect(try client.post(fact).status == 201) }
        concurrently(32) { index in
            let client = daemon.client()
            for round in 0..<20 { _ = try? client.post(Facts.invite("g\(index)-\(round)")) }
        }
        let metrics = try client.get("/metrics").text
        let gauge = metrics.split(separator: "\n").first { $0.hasPrefix("refledger_queue_facts ") }
        #expect(gauge.flatMap { Double($0.split(separator: " ")[1]) } == 0, "\(metrics)")
    }
}
