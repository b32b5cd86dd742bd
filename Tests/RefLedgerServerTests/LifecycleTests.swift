import Foundation
import RefLedgerServer
import RefLedgerTestSupport
import Synchronization
import Testing

@Suite struct LifecycleTests {
    @Test func socketHygieneAndASecondDaemonIsRefused() throws {
        let directory = try TemporaryDirectory("hy")
        // A stale socket file (its listener gone) is removed at start.
        let stale = directory.appending("s.sock")
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(stale.utf8))
            raw[stale.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        close(listener)
        #expect(FileManager.default.fileExists(atPath: stale))

        let daemon = try DaemonHarness("hy", directory: directory)
        defer { daemon.finish() }
        var info = stat()
        #expect(stat(daemon.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(daemon.log.contains("refledger started") && daemon.log.contains("seq=0"))
        #expect(daemon.log.contains("socket=\(daemon.socketPath)"))
        // Its writer thread goes by its name in `ps -L`, `top -H` and `perf`.
        let tasks = "/proc/\(daemon.process.processIdentifier)/task"
        let names = try FileManager.default.contentsOfDirectory(atPath: tasks).compactMap { task in
            try? String(contentsOfFile: "\(tasks)/\(task)/comm", encoding: .utf8)
        }
        #expect(names.contains("ledger-writer\n"), "\(names)")

        // A second daemon on the same data directory: refused, non-zero exit, clear message.
        let second = try runCommand(
            "refledger",
            ["serve", "--data", daemon.dataPath, "--socket", directory.appending("t.sock")]
        )
        #expect(second.status != 0)
        #expect(second.stderr.contains("another refledger process"), "\(second.stderr)")
        // A second daemon on another data directory but the same live socket: refused too.
        let thief = try runCommand(
            "refledger",
            ["serve", "--data", directory.appending("other"), "--socket", daemon.socketPath]
        )
        #expect(thief.status != 0 && thief.stderr.contains("listening on"), "\(thief.stderr)")
        #expect(try daemon.client().get("/v1/health").status == 200)
        let long = try runCommand(
            "refledger",
            ["serve", "--data", directory.appending("x"), "--socket", "/tmp/" + String(repeating: "s", count: 120)]
        )
        #expect(long.status != 0 && long.stderr.contains("at most"))

        _ = try daemon.client().post(Facts.program)
        #expect(daemon.terminate() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
        #expect(daemon.log.contains("refledger stopped") && daemon.log.contains("seq=1"))
    }

    @Test func fullQueueAnswers503Overloaded() throws {
        let daemon = try DaemonHarness("ov", arguments: ["--queue-limit", "1", "--testing-commit-delay-ms", "600"])
        defer { daemon.finish() }
        let results = Results()
        let facts = [Facts.program, Facts.invite("a")]
        let group = startThreads(2, staggerMicros: 150_000) { index in
            let response = try? daemon.client().post(facts[index])
            results.set(index, response?.status ?? -1)
        }
        usleep(150_000)
        // One fact is being committed (slowly), one waits in the queue: the queue is full.
        let refused = try daemon.client().post(Facts.invite("b"))
        #expect(refused.status == 503)
        #expect(errorCode(refused.text) == "overloaded")
        #expect(refused.header("retry-after") != nil)
        let batch = try daemon.client().postBatch([Facts.invite("c")])
        #expect(batch.status == 503)
        group.wait()
        #expect(results.values == [0: 201, 1: 422])
    }

    @Test func storageFullAnswers507AndTheDaemonKeepsServingReads() throws {
        let daemon = try DaemonHarness("sf", arguments: ["--max-map-mib", "1"])
        defer { daemon.finish() }
        let client = daemon.client()
        #expect(try client.postBatch(Facts.base).status == 200)
        var created = Facts.base.count
        var sawFull = false
        for round in 0..<200 where !sawFull {
            let (status, lines) = try client.postBatch((0..<200).map { Facts.invite("f\(round)-\($0)") })
            #expect(status == 200)
            for line in lines {
                if jsonObject(line)["status"] as? String == "created" {
                    created += 1
                } else {
                    #expect(jsonObject(line)["status"] as? Int == 507, "\(line)")
                    #expect(errorCode(line) == "storage_full")
                    sawFull = true
                }
            }
        }
        #expect(sawFull)
        // Single facts may still fit where a batch did not; keep going until one does not.
        var single = try client.post(Facts.invite("after-full"))
        for index in 0..<2000 where single.status == 201 {
            created += 1
            single = try client.post(Facts.invite("after-full-\(index)"))
        }
        #expect(single.status == 507 && errorCode(single.text) == "storage_full")
        // Reads still work and nothing acknowledged is lost.
        #expect(try client.get("/v1/health").status == 200)
        #expect(try client.get("/v1/programs/shop/participants/alice").status == 200)
        let head = jsonObject(try client.get("/v1/health").text)["seq"] as? Int ?? 0
        #expect(head == created + 2)
        let events = try client.get("/v1/events?limit=100000").text.split(separator: "\n")
        #expect(events.count == head)
        #expect(daemon.terminate() == 0)
        let verify = try runCommand("refledger", ["verify", "--data", daemon.dataPath])
        #expect(verify.status == 0, "\(verify.output) \(verify.stderr)")
    }

    /// Several clients at once, one request per commit (`--max-facts-per-commit`) and a slow
    /// writer, so that requests queue behind a commit that fails when the map fills: nothing
    /// acknowledged is lost or stored twice.
    @Test func concurrentBatchesThatFillTheMapLoseNothingAcknowledged() throws {
        // One request per commit, and a slow writer: the other requests wait in the queue.
        let daemon = try DaemonHarness(
            "sfc",
            arguments: ["--max-map-mib", "1", "--max-facts-per-commit", "150", "--testing-commit-delay-ms", "60"]
        )
        defer { daemon.finish() }
        #expect(try daemon.client().postBatch(Facts.base).status == 200)
        let clients = 8
        let created = Mutex([Int](repeating: 0, count: clients))
        let full = Mutex([Bool](repeating: false, count: clients))
        let done = DispatchSemaphore(value: 0)
        // A thread per client (not a shared pool): the requests are truly concurrent.
        for index in 0..<clients {
            Thread {
                defer { done.signal() }
                let client = daemon.client()
                for round in 0..<200 {
                    let batch = (0..<150).map { Facts.invite("c\(index)-\(round)-\($0)") }
                    guard let (_, lines) = try? client.postBatch(batch) else { return }
                    for line in lines {
                        if jsonObject(line)["status"] as? String == "created" {
                            created.withLock { $0[index] += 1 }
                        } else {
                            full.withLock { $0[index] = true }
                        }
                    }
                    if full.withLock({ $0[index] }) { return }
                }
            }.start()
        }
        for _ in 0..<clients { done.wait() }
        #expect(full.withLock { $0.contains(true) })
        let head = jsonObject(try daemon.client().get("/v1/health").text)["seq"] as? Int ?? 0
        // The base facts derive two reward events; invites derive none.
        #expect(head == created.withLock { $0.reduce(0, +) } + Facts.base.count + 2)
        // No commit took more than one request's 150 facts.
        var metrics: [String: Double] = [:]
        for line in try daemon.client().get("/metrics").text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { metrics[String(parts[0])] = Double(parts[1]) }
        }
        let commits = try #require(metrics["refledger_commit_facts_count"])
        let facts = try #require(metrics["refledger_commit_facts_sum"])
        #expect(commits > 1 && facts / commits <= 150, "\(facts) facts in \(commits) commits")
        #expect(daemon.terminate() == 0)
        let verify = try runCommand("refledger", ["verify", "--data", daemon.dataPath])
        #expect(verify.status == 0, "\(verify.output) \(verify.stderr)")
    }

    @Test func gracefulShutdownAnswersEveryRequestInFlight() throws {
        let daemon = try DaemonHarness("gs", arguments: ["--testing-commit-delay-ms", "400"])
        defer { daemon.finish() }
        #expect(try daemon.client().postBatch([Facts.program, Facts.alice]).status == 200)
        let clients = 16
        let requests = (0..<clients).map { index in
            index % 2 == 0
                ? RawRequest.post(Facts.invite("g\(index)"), contentType: "application/json")
                : RawRequest.post(
                    (0..<50).map { Facts.invite("g\(index)-\($0)") + "\n" }.joined(),
                    contentType: "application/x-ndjson"
                )
        }
        // Every request is written whole before SIGTERM; the writer is slow to commit, so they
        // are all in flight (read, queued or committing) when it arrives.
        let connections = try requests.map { _ in try RawRequest.connect(daemon.socketPath) }
        for (connection, request) in zip(connections, requests) { try RawRequest.send(request, on: connection) }
        usleep(200_000)
        #expect(daemon.terminate() == 0)
        let statuses = connections.map { RawRequest.readStatus($0) }
        #expect(statuses == requests.indices.map { $0 % 2 == 0 ? 201 : 200 }, "\(statuses)")
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
        #expect(daemon.log.contains("refledger stopped"))
        // Everything answered is in the log.
        try daemon.restart()
        let head = jsonObject(try daemon.client().get("/v1/health").text)["seq"] as? Int
        #expect(head == 2 + clients / 2 + (clients / 2) * 50)
    }
    /// A response longer than the socket and NIO buffers hold, still being written when
    /// SIGTERM arrives, reaches the client whole: the connection closes after its last byte.
    @Test func gracefulShutdownWritesALongResponseWhole() throws {
        let daemon = try DaemonHarness("gl")
        defer { daemon.finish() }
        #expect(try daemon.client().postBatch([Facts.program, Facts.alice]).status == 200)
        let count = 20_000
        let body = (0..<count).map { Facts.invite("l\($0)") + "\n" }.joined()
        let connection = try RawRequest.connect(daemon.socketPath)
        try RawRequest.send(RawRequest.post(body, contentType: "application/x-ndjson"), on: connection)
        // Every line committed: the results are written or wait for this client to read them.
        let client = daemon.client()
        for _ in 0..<1200 {
            if jsonObject(try client.get("/v1/health").text)["seq"] as? Int == 2 + count { break }
            usleep(50_000)
        }
        kill(daemon.process.processIdentifier, SIGTERM)
        // Read slowly, so that the response's end is queued while the socket is full: the
        // daemon's close then finds results still buffered and must wait for them.
        let response = RawRequest.readAll(connection, pause: 20_000)
        #expect(daemon.terminate() == 0)
        #expect(response.hasPrefix("HTTP/1.1 200"))
        #expect(response.hasSuffix("\r\n0\r\n\r\n"), "the chunked body ends")
        #expect(response.components(separatedBy: #""status":"created""#).count - 1 == count)
    }
}

/// HTTP/1.1 requests written by hand, so a test knows they were sent whole.
enum RawRequest {
    static func post(_ body: String, contentType: String) -> [UInt8] {
        Array(
            "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                .utf8
        )
    }

    static func connect(_ path: String) throws -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
            raw[path.utf8.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            close(descriptor)
            throw HarnessError("connect: \(error)")
        }
        setReceiveTimeout(descriptor, seconds: 60)
        return descriptor
    }

    static func send(_ bytes: [UInt8], on descriptor: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Foundation.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw HarnessError("send: \(errno)") }
            offset += written
        }
    }

    /// Bytes received on `descriptor` (then closed, unless `closing` is false) until the peer
    /// closes, a receive times out, or `isComplete` says the response is whole; with `pause`,
    /// it sleeps that many microseconds after each read, a slow reader.
    private static func receive(
        _ descriptor: Int32,
        pause: useconds_t = 0,
        closing: Bool = true,
        until isComplete: ([UInt8]) -> Bool
    ) -> [UInt8] {
        defer { if closing { close(descriptor) } }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
            if isComplete(received) { break }
            if pause > 0 { usleep(pause) }
        }
        return received
    }

    /// Whether `received` ends a chunked body.
    private static func endsChunkedBody(_ received: [UInt8]) -> Bool {
        received.count >= 7 && received.suffix(7).elementsEqual("\r\n0\r\n\r\n".utf8)
    }

    /// Waits at most `seconds` for each receive on `descriptor` from now on.
    static func setReceiveTimeout(_ descriptor: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next response head on `descriptor`, through its blank line, read a byte at a time
    /// so that nothing after it is taken; `nil` if the peer closed or a receive timed out.
    static func readHead(_ descriptor: Int32) -> String? {
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while !received.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            guard recv(descriptor, &byte, 1, 0) == 1 else { return nil }
            received.append(byte)
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Everything that arrives on `descriptor` (which stays open) until a receive times out
    /// or the peer closes.
    static func readUntilQuiet(_ descriptor: Int32) -> String {
        String(decoding: receive(descriptor, closing: false) { _ in false }, as: UTF8.self)
    }

    /// Everything sent on `descriptor` until the peer closes or a chunked body ends, read
    /// with `pause` microseconds after each read.
    static func readAll(_ descriptor: Int32, pause: useconds_t = 0) -> String {
        String(decoding: receive(descriptor, pause: pause, until: endsChunkedBody), as: UTF8.self)
    }

    /// The status of the response (read to its end or the connection's), -1 if none came.
    static func readStatus(_ descriptor: Int32) -> Int {
        let received = receive(descriptor) { received in
            let text = String(decoding: received, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n"),
                let lengthLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first(where: {
                    $0.lowercased().hasPrefix("content-length:")
                }),
                let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
                received.count >= text[..<headEnd.upperBound].utf8.count + length
            {
                return true
            }
            return endsChunkedBody(received)
        }
        let text = String(decoding: received, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), let status = Int(text.dropFirst(9).prefix(3)) else { return -1 }
        return status
    }
}

/// Results keyed by request index, filled from several threads.
final class Results: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var stored: [Int: Int] = [:]

    func set(_ index: Int, _ value: Int) {
        lock.lock()
        stored[index] = value
        lock.unlock()
    }

    var values: [Int: Int] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
