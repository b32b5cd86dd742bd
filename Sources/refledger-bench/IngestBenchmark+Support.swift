import Foundation
import RefLedgerCore
import RefLedgerServer
import RefLedgerTestSupport

/// Counters and gauges read from the daemon's `/metrics` (unlabelled ones, by name).
struct Scrape {
    var values: [String: Double] = [:]

    var commits: Double { values["refledger_commit_facts_count"] ?? 0 }
    var factSum: Double { values["refledger_commit_facts_sum"] ?? 0 }
    var head: UInt64 { UInt64(values["refledger_head_seq"] ?? 0) }

    subscript(_ name: String) -> Double { values[name] ?? 0 }
}

/// A `refledger serve` child process on a scratch directory.
struct BenchDaemon {
    let process: Process
    let socketPath: String

    /// Starts the daemon (on an emptied data directory unless `fresh` is false), with
    /// `arguments` after the data and socket ones, and waits for its first answer.
    init(directory: String, fresh: Bool = true, arguments: [String] = []) throws {
        let data = directory + "/data"
        if fresh { try? FileManager.default.removeItem(atPath: data) }
        socketPath = directory + "/s.sock"
        process = Process()
        process.executableURL = Bench.refledgerExecutable
        process.arguments = ["serve", "--data", data, "--socket", socketPath] + arguments
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let response = try? UnixHTTPClient(socketPath: socketPath, timeoutSeconds: 5).request(
                "GET",
                "/v1/health"
            ),
                response.status == 200
            {
                return
            }
            guard process.isRunning else {
                throw BenchFailure(description: "the daemon exited with \(process.terminationStatus)")
            }
            usleep(2_000)
        }
        throw BenchFailure(description: "the daemon did not answer within 120 s")
    }

    /// Every unlabelled value of `/metrics`.
    func scrape() throws -> Scrape {
        let text = try UnixHTTPClient(socketPath: socketPath).request("GET", "/metrics").text
        var scrape = Scrape()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            scrape.values[String(parts[0])] = value
        }
        return scrape
    }

    func residentBytes() -> Int { status("VmRSS:") }

    /// CPU seconds the daemon used so far, user and system, all threads (from /proc).
    func cpuSeconds() -> Double { Bench.cpuSeconds(ofProcess: process.processIdentifier) }
    func peakResidentBytes() -> Int { status("VmHWM:") }

    private func status(_ key: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            return (line.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
        }
        return 0
    }

    /// SIGTERM, and waits for the exit.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }

    /// SIGKILL (no final snapshot), and waits for the exit.
    func killHard() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Valid facts of one program: a population signed up first, then facts that reference only
/// that population (so they stay valid in any order across connections): invites, clicks,
/// new attributed signups and conversions (first conversions derive rewards).
enum IngestFacts {
    static let base = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!.millisecondsSinceEpoch

    static func setup(population: Int) -> [[UInt8]] {
        let program =
            #"{"id":"prog","type":"program","program":"bench","time":"2026-01-01T00:00:00Z","rules":{"currency":"USD","referrer_reward":{"percent_bps":500},"referee_reward":{"fixed":500}}}"#
        var facts = [Array(program.utf8)]
        for index in 0..<population {
            let referrer = index > 0 ? #","referrer_code":"code-\#(index / 2)""# : ""
            let time = Timestamp(millisecondsSinceEpoch: base + Int64(index) * 1000)
            facts.append(
                Array(
                    #"{"id":"pop-\#(index)","type":"signup","program":"bench","time":"\#(time)","participant":"u\#(index)","code":"code-\#(index)"\#(referrer)}"#
                        .utf8
                )
            )
        }
        return facts
    }

    static func measured(count: Int, population: Int, prefix: String) -> [[UInt8]] {
        var random = SeededGenerator(seed: prefix == "a" ? 7 : 11)
        let start = base + Int64(population) * 1000
        return (0..<count).map { index in
            let time = Timestamp(millisecondsSinceEpoch: start + Int64(index) * 10 + Int64(random.next() % 10))
            let member = random.next() % UInt64(population)
            let id = "\(prefix)-\(index)"
            let line: String
            switch random.next() % 4 {
            case 0:
                line =
                    #"{"id":"\#(id)","type":"invite","program":"bench","time":"\#(time)","participant":"u\#(member)","channel":"email","invitee":"h-\#(random.next() % 1_000_000_000)"}"#
            case 1:
                line =
                    #"{"id":"\#(id)","type":"click","program":"bench","time":"\#(time)","code":"code-\#(member)","visitor":"v-\#(random.next() % 10_000_000)","channel":"link"}"#
            case 2:
                line =
                    #"{"id":"\#(id)","type":"signup","program":"bench","time":"\#(time)","participant":"n-\#(id)","referrer_code":"code-\#(member)"}"#
            default:
                line =
                    #"{"id":"\#(id)","type":"conversion","program":"bench","time":"\#(time)","participant":"u\#(member)","order":"o-\#(id)","amount":\#(500 + random.next() % 50_000),"currency":"USD"}"#
            }
            return Array(line.utf8)
        }
    }
}
