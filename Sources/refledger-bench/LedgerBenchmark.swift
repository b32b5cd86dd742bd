import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport

/// `refledger-bench ledger`: the ledger's in-memory apply rate, durable import from NDJSON,
/// full verify (chain + re-derivation + invariant), and query latency at the head.
struct LedgerBenchmark {
    let factCount: Int
    let seed: UInt64
    /// Only decode and in-memory apply (`--apply-only`), for quick looks while tuning.
    let applyOnly: Bool

    init(arguments: [String]) throws {
        applyOnly = arguments.contains("--apply-only")
        // Fewer facts than this may sign up no participant to query.
        factCount = try Bench.option("facts", in: arguments, default: 1_000_000, minimum: 100)
        seed = UInt64(try Bench.option("seed", in: arguments, default: 7, minimum: 0))
    }

    func run() throws {
        Bench.note("generating \(factCount) facts (seed \(seed))")
        let lines = TrafficGenerator.facts(seed: seed, count: factCount)
        let now = Timestamp.now()

        // 1. In-memory apply: decoded up front, then only Ledger.apply is timed.
        var facts: [Fact] = []
        facts.reserveCapacity(lines.count)
        let decodeSeconds = Bench.time {
            for line in lines {
                if let fact = try? FactDecoder.decode(Array(line.utf8), now: now) { facts.append(fact) }
            }
        }
        // Twice, into two ledgers alive at once (so the second finds no memory the first freed):
        // first as the importer applies facts on the main thread (this benchmark's import below
        // does), with the heap pre-faulted on the other core (``HeapPrefaulter``), then without
        // (the thread stays bound to the pre-faulted arena: the second ledger grows into the
        // region above the first, of which only the 16 MiB span left when it stopped is mapped).
        let prefaulter = HeapPrefaulter()
        let (ledger, applied) = Self.apply(facts, now: now)
        prefaulter.stop()
        let plain = Self.apply(facts, now: now).run
        Bench.note("applied \(facts.count) facts in memory")
        let snapshot = try Self.snapshotRoundTrip(ledger)
        if applyOnly {
            return try Bench.printJSON([
                "benchmark": "ledger",
                "results": [
                    "decode_facts_per_s": Bench.round(Double(lines.count) / decodeSeconds),
                    "apply_facts_per_s": Bench.round(Double(facts.count) / applied.seconds),
                    "apply_accepted": applied.accepted, "apply_events": applied.events,
                    "apply_page_faults": applied.faults,
                    "apply_without_prefaulter": plain.json(facts: facts.count),
                    "snapshot": snapshot,
                ],
            ])
        }

        // 2. Durable import from an NDJSON file: the `refledger import` command, as a user runs it.
        let directory = try Bench.scratchDirectory("ledger")
        let file = directory + "/facts.ndjson"
        try lines.joined(separator: "\n").appending("\n").write(toFile: file, atomically: false, encoding: .utf8)
        // On disk before the import starts, as a user's input would be: the kernel writing the
        // file's 140 MB back while the import ran took ~15% of its time.
        Bench.flushToDisk(file)
        let data = directory + "/data"
        let command = try ImportCommandRun(file: file, data: data)
        Bench.note("imported \(lines.count) lines durably with refledger import")
        let log = try EventLog.open(directory: data, readOnly: false)

        // 3. Full verify: chain, re-derivation, invariant.
        var report: LogVerifier.Report?
        let verifySeconds = try Bench.time { report = try LogVerifier().verify(log) }
        let head = try log.head().seq
        guard command.events == head else {
            throw BenchFailure(description: "refledger import reported \(command.events) events; the log holds \(head)")
        }

        // 4. Query latency at the head, on the biggest program.
        let writer = try LedgerWriter(log: log)
        let program = biggestProgram(writer.ledger)
        let participants = try sampleParticipants(writer.ledger, program: program, count: 1000)
        var metricsMicros: [Double] = []
        var participantMicros: [Double] = []
        for index in 0..<2000 {
            let start = Bench.now()
            _ = try Query(kind: .metrics(program: program)).answer(from: writer.ledger, seq: head, now: now)
            metricsMicros.append(Double(Bench.now() - start) / 1000)
            let participant = participants[index % participants.count]
            let start2 = Bench.now()
            _ = try Query(kind: .participant(program: program, id: participant)).answer(
                from: writer.ledger,
                seq: head,
                now: now
            )
            participantMicros.append(Double(Bench.now() - start2) / 1000)
        }
        log.close()
        try? FileManager.default.removeItem(atPath: directory)

        let results: [String: Any] = [
            "facts_generated": lines.count,
            "facts_decoded": facts.count,
            "decode_facts_per_s": Bench.round(Double(lines.count) / decodeSeconds),
            "apply_facts_per_s": Bench.round(Double(facts.count) / applied.seconds),
            "apply_accepted": applied.accepted,
            "apply_events": applied.events,
            "apply_page_faults": applied.faults,
            "apply_without_prefaulter": plain.json(facts: facts.count),
            "snapshot": snapshot,
            "import_facts_per_s": Bench.round(Double(lines.count) / command.seconds),
            "import_cpu_us_per_fact": Bench.round(command.cpuSeconds * 1e6 / Double(lines.count), 2),
            "import_created": command.created,
            "import_rejected": command.rejected,
            "import_duplicates": command.duplicates,
            "events_in_log": head,
            "verify_events_per_s": Bench.round(Double(head) / verifySeconds),
            "verify_ok": report?.isValid ?? false,
            "query_program": program,
            "metrics_latency_us": [
                "p50": Bench.round(Bench.percentile(&metricsMicros, 0.5)),
                "p99": Bench.round(Bench.percentile(&metricsMicros, 0.99)),
            ],
            "participant_latency_us": [
                "p50": Bench.round(Bench.percentile(&participantMicros, 0.5)),
                "p99": Bench.round(Bench.percentile(&participantMicros, 0.99)),
            ],
            "rss_bytes": Bench.residentBytes(),
            "targets": ["apply_facts_per_s": 1_000_000, "import_facts_per_s": 200_000, "query_p99_us": 1000],
        ]
        try Bench.printJSON(["benchmark": "ledger", "results": results])
    }

    /// One timed run of ``Ledger/apply(_:recordedAt:)`` over `facts` into a fresh ledger.
    struct ApplyRun {
        var seconds = 0.0
        var accepted = 0
        var events = 0
        /// Page faults the applying thread took (fresh memory mapped and zeroed for it).
        var faults = 0

        func json(facts: Int) -> [String: Any] {
            ["facts_per_s": Bench.round(Double(facts) / seconds), "page_faults": faults]
        }
    }

    static func apply(_ facts: [Fact], now: Timestamp) -> (ledger: Ledger, run: ApplyRun) {
        var ledger = Ledger.standard()
        var pending = facts.map { Optional($0) }
        var run = ApplyRun()
        let faultsBefore = Bench.threadPageFaults()
        run.seconds = Bench.time {
            // Each fact is moved out of the run, not copied (a copy retains every field), as
            // import and the daemon's writer hand facts over; the next one is moved out a step
            // ahead, for its look-ups to start loading (reading it in place in the array copied
            // it: a quarter of this loop's time went to retaining and releasing its fields).
            var upcoming = pending.isEmpty ? nil : pending[0].take()
            for index in pending.indices {
                let fact = upcoming.take()!
                if index + 1 < pending.count {
                    upcoming = pending[index + 1].take()
                    if case .some(let next) = upcoming { ledger.prefetch(next) }
                }
                if let stored = try? ledger.apply(fact, recordedAt: now) {
                    run.accepted += 1
                    run.events += stored.count
                }
            }
        }
        run.faults = Bench.threadPageFaults() - faultsBefore
        return (ledger, run)
    }

    /// The applied ledger's snapshot: seconds each way, its size, and a fingerprint.
    private static func snapshotRoundTrip(_ ledger: Ledger) throws -> [String: Any] {
        let (bytes, encodeSeconds, decodeSeconds) = try Bench.snapshotRoundTrip(ledger)
        // As import and a daemon's shutdown encode: each program's sections on two threads.
        var forked: [UInt8] = []
        let forkedSeconds = Bench.time { forked = ledger.snapshotBytes(fork: Ledger.onTwoThreads) }
        guard forked == bytes else { throw BenchFailure(description: "a forked encoding differs") }
        return [
            "encode_seconds": Bench.round(encodeSeconds, 3),
            "encode_two_threads_seconds": Bench.round(forkedSeconds, 3),
            "decode_seconds": Bench.round(decodeSeconds, 3),
            "bytes": bytes.count,
            // Equal states give equal bytes: the same facts give this on every build.
            "sha256_prefix": Ledger.standardHasher(bytes).prefix(8).map { String(format: "%02x", $0) }.joined(),
        ]
    }

    private func biggestProgram(_ ledger: Ledger) -> String {
        ledger.programNames.max { ledger.participantCount(program: $0) < ledger.participantCount(program: $1) } ?? ""
    }

    /// Up to `count` participants of `program` to query; throws if it has none (too few
    /// facts generated).
    private func sampleParticipants(_ ledger: Ledger, program: String, count: Int) throws -> [String] {
        let sample = Array(ledger.participantIDs(program: program).prefix(count))
        guard !sample.isEmpty else {
            throw BenchFailure(description: "the \(factCount) facts sign up no participant to query: give more --facts")
        }
        return sample
    }
}

extension Bench {
    /// `ledger`'s snapshot bytes, encoded and read back (on two threads, as the store does),
    /// with the seconds each way; throws unless reading back gives the same bytes.
    static func snapshotRoundTrip(
        _ ledger: Ledger
    ) throws -> (bytes: [UInt8], encodeSeconds: Double, decodeSeconds: Double) {
        var bytes: [UInt8] = []
        let encodeSeconds = time { bytes = ledger.snapshotBytes() }
        var decoded: Ledger?
        let decodeSeconds = try time {
            decoded = try Ledger(snapshot: bytes, sha256: Ledger.standardHasher, fork: Ledger.onTwoThreads)
        }
        guard decoded?.snapshotBytes() == bytes else {
            throw BenchFailure(description: "the snapshot does not round-trip")
        }
        return (bytes, encodeSeconds, decodeSeconds)
    }
}

/// One run of `refledger import --data DATA FILE`, the executable beside this one: how long it
/// took, the CPU it used, and what its summary line says it stored.
struct ImportCommandRun {
    var seconds = 0.0
    var cpuSeconds = 0.0
    var created = 0
    var events: UInt64 = 0
    var duplicates = 0
    var rejected = 0

    init(file: String, data: String) throws {
        let process = Process()
        process.executableURL = Bench.refledgerExecutable
        process.arguments = ["import", "--data", data, file]
        // Rejected lines and then the summary are reported on standard error.
        let output = Pipe()
        process.standardError = output
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let cpuBefore = Bench.childrenCPUSeconds()
        var text = ""
        seconds = try Bench.time {
            try process.run()
            text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
        }
        cpuSeconds = Bench.childrenCPUSeconds() - cpuBefore
        // Exit 1: some lines were rejected, as generated streams have.
        let summary = /imported (\d+) facts \((\d+) events\), (\d+) duplicates, (\d+) rejected;/
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus <= 1, let match = last.firstMatch(of: summary),
            let created = Int(match.1), let events = UInt64(match.2), let duplicates = Int(match.3),
            let rejected = Int(match.4)
        else {
            throw BenchFailure(
                description: "refledger import exited with \(process.terminationStatus), ending: \(last)"
            )
        }
        (self.created, self.events, self.duplicates, self.rejected) = (created, events, duplicates, rejected)
    }
}
