import Foundation
import RefLedgerServer
import RefLedgerTestSupport
import Testing

/// A real `refledger serve` process on a temporary data directory and a short socket path.
final class DaemonHarness: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `restart()`, which tests call from one task.
    let directory: TemporaryDirectory
    let dataPath: String
    let socketPath: String
    let logPath: String
    let extraArguments: [String]
    private(set) var process: Process

    /// Starts a daemon and waits until it answers `/v1/health`.
    init(_ name: String = "d", arguments: [String] = [], directory: TemporaryDirectory? = nil) throws {
        self.directory = try directory ?? TemporaryDirectory(name)
        dataPath = self.directory.appending("data")
        socketPath = self.directory.appending("s.sock")
        logPath = self.directory.appending("daemon.log")
        extraArguments = arguments
        process = try Self.launch(data: dataPath, socket: socketPath, log: logPath, arguments: arguments)
        try waitUntilReady()
    }

    /// Spawns `refledger serve`, its standard error appended to `log`.
    static func launch(data: String, socket: String, log: String, arguments: [String]) throws -> Process {
        if !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
        }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        output.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: productsDirectory + "/refledger")
        process.arguments = ["serve", "--data", data, "--socket", socket] + arguments
        process.standardError = output
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls `/v1/health` until it answers 200 (or the process ends, or 60 s pass).
    func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else {
                throw HarnessError("the daemon exited with \(process.terminationStatus): \(log)")
            }
            if let response = try? UnixHTTPClient(socketPath: socketPath, timeoutSeconds: 5).request(
                "GET",
                "/v1/health"
            ),
                response.status == 200
            {
                return
            }
            usleep(20_000)
        }
        throw HarnessError("the daemon did not answer within 60 s: \(log)")
    }

    /// A new client of this daemon.
    func client(timeoutSeconds: Int = 60) -> UnixHTTPClient {
        UnixHTTPClient(socketPath: socketPath, timeoutSeconds: timeoutSeconds)
    }

    /// What the daemon wrote to standard error so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM and waits for the exit; returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Kills the daemon with SIGKILL and waits for it.
    func killHard() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Starts the daemon again on the same data directory and socket.
    func restart() throws {
        process = try Self.launch(data: dataPath, socket: socketPath, log: logPath, arguments: extraArguments)
        try waitUntilReady()
    }

    /// Stops the daemon (gracefully) and removes the directory.
    func finish() {
        terminate()
        directory.remove()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension UnixHTTPClient {
    /// POSTs one fact as `application/json`.
    func post(_ fact: String) throws -> Response {
        try request("POST", "/v1/events", body: Array(fact.utf8), contentType: "application/json")
    }

    /// POSTs NDJSON lines and returns the status and the result lines.
    func postBatch(_ lines: [String]) throws -> (status: Int, lines: [String]) {
        let body = Array((lines.joined(separator: "\n") + "\n").utf8)
        let response = try request("POST", "/v1/events", body: body, contentType: "application/x-ndjson")
        return (response.status, response.text.split(separator: "\n").map(String.init))
    }

    /// GETs `target` and returns the status and body text.
    func get(_ target: String) throws -> Response { try request("GET", target) }

    /// The value of a gauge or counter in `/metrics`; `name` includes its labels, if any
    /// (`refledger_rejects_total{code="bad_json"}`).
    func metric(_ name: String) -> Double? {
        guard let text = try? get("/metrics").text else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }
}

/// The JSON object of a body (Foundation's reader: enough for assertions).
func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

/// The §6 error code of an error body or result line.
func errorCode(_ text: String) -> String? {
    (jsonObject(text)["error"] as? [String: Any])?["code"] as? String
}

/// Expects `refledger serve` with `options` to exit non-zero, saying `message`, before it
/// creates its data directory.
func expectServeRefuses(_ options: [String], saying message: String) throws {
    let directory = try TemporaryDirectory("servearg")
    defer { directory.remove() }
    let result = try runCommand("refledger", ["serve", "--data", directory.appending("data")] + options)
    #expect(result.status != 0)
    #expect(result.stderr.contains(message), "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory.appending("data")), "nothing was created")
}

/// Facts that set up a program with two participants; times are in the past.
enum Facts {
    static let program =
        #"{"id":"p1","type":"program","program":"shop","time":"2026-11-01T00:00:00Z","rules":{"currency":"USD","referrer_reward":{"percent_bps":500},"referee_reward":{"fixed":1000}}}"#
    static let alice =
        #"{"id":"s1","type":"signup","program":"shop","time":"2026-11-02T00:00:00Z","participant":"alice","code":"ALICE","visitor":"va"}"#
    static let click =
        #"{"id":"k1","type":"click","program":"shop","time":"2026-11-02T02:00:00Z","code":"alice","visitor":"vb"}"#
    static let bob =
        #"{"id":"s2","type":"signup","program":"shop","time":"2026-11-03T00:00:00Z","participant":"bob","visitor":"vb"}"#
    static let conversion =
        #"{"id":"c1","type":"conversion","program":"shop","time":"2026-11-04T00:00:00Z","participant":"bob","order":"o1","amount":10000,"currency":"USD"}"#

    /// An invite by alice with id `id`.
    static func invite(_ id: String) -> String {
        #"{"id":"\#(id)","type":"invite","program":"shop","time":"2026-11-05T00:00:00Z","participant":"alice","channel":"email"}"#
    }

    static let base = [program, alice, click, bob, conversion]
}

/// Runs `body(index)` on `count` threads at once and waits for all of them.
func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// Starts `body(index)` on `count` threads and returns a group to wait on.
func startThreads(_ count: Int, staggerMicros: UInt32 = 0, _ body: @escaping @Sendable (Int) -> Void) -> DispatchGroup {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
        if staggerMicros > 0 { usleep(staggerMicros) }
    }
    return group
}
