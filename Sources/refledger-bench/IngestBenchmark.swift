import Foundation
import RefLedgerCore
import RefLedgerServer
import RefLedgerStore
import Synchronization

/// `refledger-bench ingest`: the real daemon (`refledger serve`, started from the folder of
/// this executable) under (a) NDJSON batches of 1,000 facts on 4 connections and (b) one fact
/// per request on 64 connections, driven by one thread (``PolledPoster``); events/s, latency
/// percentiles, commits/s and facts per commit (from `/metrics`), the daemon's RSS; raw LMDB
/// measured in the same run beside them; the snapshots the daemon took meanwhile (every
/// 250,000 events: the writer's stall, size, times); and the restart time over the log that
/// (a) and (b) left (≥ 1,000,000 events by default), which loads the snapshot taken at
/// shutdown.
struct IngestBenchmark {
    let batchFacts: Int
    let singleFacts: Int
    /// The daemon's `--snapshot-every` (a value above the events posted measures ingest
    /// without periodic snapshots).
    let snapshotEvery: Int
    let batchConnections = 4
    let batchLines = 1000
    let singleConnections = 64
    /// Participants signed up before the measured facts, which only reference them.
    let population = 20_000

    init(arguments: [String]) throws {
        batchFacts = try Bench.option("batch-facts", in: arguments, default: 1_000_000, minimum: 1)
        singleFacts = try Bench.option("single-facts", in: arguments, default: 96_000, minimum: 0)
        snapshotEvery = try Bench.option("snapshot-every", in: arguments, default: 250_000, minimum: 1)
    }

    func run() throws {
        let directory = try Bench.scratchDirectory("ingest")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // No idle snapshot (the raw LMDB runs between (b) and the SIGKILL leave the daemon idle
        // for seconds): the restart after SIGKILL replays the tail a crash under load leaves.
        let daemonArguments = ["--snapshot-every", String(snapshotEvery), "--idle-snapshot-after", "0"]
        var daemon = try BenchDaemon(directory: directory, arguments: daemonArguments)
        defer { daemon.stop() }
        let setup = IngestFacts.setup(population: population)
        _ = try post(
            batches: stride(from: 0, to: setup.count, by: batchLines).map {
                Array(setup[$0..<min($0 + batchLines, setup.count)])
            },
            connections: 1,
            socket: daemon.socketPath
        )

        Bench.note("(a) \(batchFacts) facts in NDJSON batches of \(batchLines) on \(batchConnections) connections")
        let batchInput = IngestFacts.measured(count: batchFacts, population: population, prefix: "a")
        let batches = stride(from: 0, to: batchInput.count, by: batchLines).map {
            Array(batchInput[$0..<min($0 + batchLines, batchInput.count)])
        }
        let beforeA = try daemon.scrape()
        let cpuBeforeA = (daemon: daemon.cpuSeconds(), bench: Bench.cpuSeconds(ofProcess: getpid()))
        let runA = try post(batches: batches, connections: batchConnections, socket: daemon.socketPath)
        let cpuAfterA = (daemon: daemon.cpuSeconds(), bench: Bench.cpuSeconds(ofProcess: getpid()))
        let afterA = try daemon.scrape()
        let rssA = daemon.residentBytes()

        Bench.note("(b) \(singleFacts) single-fact requests on \(singleConnections) connections")
        let singleInput = IngestFacts.measured(count: singleFacts, population: population, prefix: "b")
        let cpuBeforeB = (daemon: daemon.cpuSeconds(), bench: Bench.cpuSeconds(ofProcess: getpid()))
        let runB = try PolledPoster.post(
            singles: singleInput,
            connections: singleConnections,
            socket: daemon.socketPath
        )
        let cpuAfterB = (daemon: daemon.cpuSeconds(), bench: Bench.cpuSeconds(ofProcess: getpid()))
        let afterB = try daemon.scrape()
        let rssB = daemon.residentBytes()
        let peakRSS = daemon.peakResidentBytes()

        let meanFactsA = (afterA.factSum - beforeA.factSum) / max(1, afterA.commits - beforeA.commits)
        let meanFactsB = (afterB.factSum - afterA.factSum) / max(1, afterB.commits - afterA.commits)
        let meanValueBytes = 160
        Bench.note("raw LMDB beside them")
        let rawDirectory = try Bench.scratchDirectory("ingest-raw")
        defer { try? FileManager.default.removeItem(atPath: rawDirectory) }
        // Raw puts by batch size: 1,000 (a's batches), 1, and b's mean batch, which a short
        // run may make 1 or 1,000 too (then the rate measured at that size is reused, and the
        // JSON names each size once). At most 3,000 commits (syncs) at each small size.
        func raw(batch: Int, events: Int) throws -> Double {
            try RawLMDB.measure(
                directory: rawDirectory,
                valueSizeBytes: meanValueBytes,
                batchSize: batch,
                totalEvents: events
            )
        }
        let raw1000 = try raw(batch: 1000, events: 500_000)
        var rawByBatch = [1000: raw1000, 1: try raw(batch: 1, events: 3_000)]
        let meanBatch = max(1, Int(meanFactsB.rounded()))
        let rawMean = try rawByBatch[meanBatch] ?? raw(batch: meanBatch, events: min(100_000, 3_000 * meanBatch))
        rawByBatch[meanBatch] = rawMean

        let head = afterB.head
        // After a crash the tail since the last periodic snapshot is replayed; after a
        // graceful stop (the target's restart) the final snapshot leaves nothing to replay.
        Bench.note("restart after SIGKILL over \(head) events")
        daemon.killHard()
        let crashStart = Bench.now()
        daemon = try BenchDaemon(directory: directory, fresh: false, arguments: daemonArguments)
        let crashSeconds = Double(Bench.now() - crashStart) / 1e9
        let crashRestored = try daemon.scrape()
        Bench.note("restart after SIGTERM over \(head) events")
        daemon.stop()
        let restartStart = Bench.now()
        daemon = try BenchDaemon(directory: directory, fresh: false, arguments: daemonArguments)
        let restartSeconds = Double(Bench.now() - restartStart) / 1e9
        let restartRSS = daemon.residentBytes()
        let restored = try daemon.scrape()
        Bench.note("queries below the head")
        let asOf = try Self.asOfQueries(socket: daemon.socketPath, head: head)
        daemon.stop()
        Bench.note("snapshot cost and replay in process")
        let snapshot = try Self.snapshotCost(data: directory + "/data", population: population)

        func phase(
            _ run: PostRun,
            _ before: Scrape,
            _ after: Scrape,
            connections: Int,
            rss: Int,
            cpu: (daemon: Double, bench: Double),
            rawBeside: Double
        ) -> [String: Any] {
            var latencies = run.latenciesMillis
            let commits = after.commits - before.commits
            return [
                "connections": connections, "facts": run.facts, "failed": run.failed,
                "events_stored": Int(after.head - before.head), "seconds": Bench.round(run.seconds, 3),
                "facts_per_s": Bench.round(Double(run.facts) / run.seconds),
                "events_per_s": Bench.round(Double(after.head - before.head) / run.seconds),
                "requests": run.latenciesMillis.count,
                "latency_ms": [
                    "p50": Bench.round(Bench.percentile(&latencies, 0.5), 3),
                    "p99": Bench.round(Bench.percentile(&latencies, 0.99), 3),
                    "p99_9": Bench.round(Bench.percentile(&latencies, 0.999), 3),
                    "max": Bench.round(latencies.max() ?? 0, 3),
                ],
                "commits": Int(commits), "commits_per_s": Bench.round(commits / run.seconds),
                "mean_facts_per_commit": Bench.round((after.factSum - before.factSum) / max(1, commits), 1),
                "daemon_rss_bytes": rss,
                // CPU per fact posted: the daemon's, and the clients' (this process) beside it.
                "daemon_cpu_us_per_fact": Bench.round(cpu.daemon * 1e6 / Double(max(1, run.facts)), 1),
                "clients_cpu_us_per_fact": Bench.round(cpu.bench * 1e6 / Double(max(1, run.facts)), 1),
                "raw_lmdb_events_per_s_same_batch": Bench.round(rawBeside),
                "ratio_to_raw": Bench.round(Double(run.facts) / run.seconds / rawBeside, 3),
            ]
        }
        var rawLMDB: [String: Any] = [
            "value_bytes": meanValueBytes, "mean_facts_per_commit_a": Bench.round(meanFactsA, 1),
        ]
        for (batch, rate) in rawByBatch { rawLMDB["batch_\(batch)_events_per_s"] = Bench.round(rate) }
        let results: [String: Any] = [
            "a_ndjson_batches_1000_on_4": phase(
                runA,
                beforeA,
                afterA,
                connections: batchConnections,
                rss: rssA,
                cpu: (cpuAfterA.daemon - cpuBeforeA.daemon, cpuAfterA.bench - cpuBeforeA.bench),
                rawBeside: raw1000
            ),
            "b_single_fact_on_64": phase(
                runB,
                afterA,
                afterB,
                connections: singleConnections,
                rss: rssB,
                cpu: (cpuAfterB.daemon - cpuBeforeB.daemon, cpuAfterB.bench - cpuBeforeB.bench),
                rawBeside: rawMean
            ),
            "raw_lmdb": rawLMDB,
            "restart": [
                "events_in_log": Int(head), "seconds_to_first_answer": Bench.round(restartSeconds, 3),
                "daemon_rss_bytes": restartRSS,
                "snapshot_seq_loaded": Int(restored["refledger_restore_snapshot_seq"]),
                "events_replayed": Int(restored["refledger_restore_replayed_events"]),
                "restore_seconds": Bench.round(restored["refledger_restore_seconds"], 3),
            ],
            "as_of_queries": asOf,
            "restart_after_sigkill": [
                "events_in_log": Int(head), "seconds_to_first_answer": Bench.round(crashSeconds, 3),
                "snapshot_seq_loaded": Int(crashRestored["refledger_restore_snapshot_seq"]),
                "events_replayed": Int(crashRestored["refledger_restore_replayed_events"]),
                "restore_seconds": Bench.round(crashRestored["refledger_restore_seconds"], 3),
            ],
            "snapshots_during_ingest": [
                "every_events": snapshotEvery, "taken": Int(afterB["refledger_snapshot_stall_seconds_count"]),
                "writer_stall_seconds_mean": Bench.round(
                    afterB["refledger_snapshot_stall_seconds_sum"]
                        / max(1, afterB["refledger_snapshot_stall_seconds_count"]),
                    3
                ),
                "last_seq": Int(afterB["refledger_snapshot_seq"]),
                "last_stored_bytes": Int(afterB["refledger_snapshot_bytes"]),
                "last_state_bytes": Int(afterB["refledger_snapshot_state_bytes"]),
                "last_encode_seconds": Bench.round(afterB["refledger_snapshot_encode_seconds"], 3),
                "last_write_seconds": Bench.round(afterB["refledger_snapshot_write_seconds"], 3),
            ],
            "snapshot_per_commit": snapshot,
            "daemon_peak_rss_bytes": peakRSS,
            "targets": [
                "a_events_per_s": 150_000, "b_events_per_s": 20_000, "b_p99_ms_max": 10, "restart_seconds_max": 1,
            ],
        ]
        try Bench.printJSON(["benchmark": "ingest", "results": results])
    }

    /// Queries below the head, on the restarted daemon (its snapshots: the newest two, or three
    /// when the one before the newest is less than `--snapshot-every` above the oldest): the
    /// first as of the middle of the log (a replay from a snapshot or seq 1), the same seq
    /// again (the kept ledger), a walk forward in steps of 1/50 of the log (the kept ledger
    /// folded on), and one step back (a replay again, what each step cost without it).
    static func asOfQueries(socket: String, head: UInt64) throws -> [String: Any] {
        let client = UnixHTTPClient(socketPath: socket, timeoutSeconds: 600)
        func millis(_ seq: UInt64, _ query: String = "metrics?") throws -> Double {
            let start = Bench.now()
            let response = try client.request("GET", "/v1/programs/bench/\(query)as_of=\(seq)")
            guard response.status == 200 else {
                throw BenchFailure(description: "as of \(seq): \(response.status) \(response.text)")
            }
            return Double(Bench.now() - start) / 1e6
        }
        let middle = head / 2
        let step = max(1, head / 50)
        let first = try millis(middle)
        var kept = try (0..<5).map { try millis(middle, $0 % 2 == 0 ? "participants/u\($0)?" : "leaderboard?") }
        let walk = try (1...5).map { try millis(middle + UInt64($0) * step) }
        let back = try millis(middle - step)
        return [
            "events_in_log": Int(head), "first_seq": Int(middle), "first_ms": Bench.round(first, 1),
            "same_seq_ms_p50": Bench.round(Bench.percentile(&kept, 0.5), 2),
            "walk_step_events": Int(step), "walk_step_ms_mean": Bench.round(walk.reduce(0, +) / Double(walk.count), 1),
            "step_back_ms": Bench.round(back, 1),
        ]
    }

    /// What keeping a copy of the ledger costs the writer: one fact applied with no other
    /// reference to the ledger, and with a copy held (the held copy makes the first mutation
    /// copy every dictionary it touches); the replay rate over this log; and the two ways to
    /// take a snapshot measured on the final ledger — serializing it on the writer thread (the
    /// stall is the encode time) or copying it and detaching the writer's storage (the stall
    /// the daemon pays) — with the snapshot's size, compression, decoding and a restore.
    static func snapshotCost(data: String, population: Int) throws -> [String: Any] {
        let log = try EventLog.open(directory: data, readOnly: true)
        defer { log.close() }
        let events = try log.head().seq
        var ledger = Ledger.standard()
        let replaySeconds = try Bench.time { ledger = try LedgerReplay.replay(log) }
        let snapshot = try Self.snapshotOptions(ledger, log: log)
        let now = Timestamp.now()
        let facts = try IngestFacts.measured(count: 400, population: population, prefix: "c").map {
            try FactDecoder.decode($0, now: now)
        }
        var alone: [Double] = []
        var held: [Double] = []
        for (index, fact) in facts.enumerated() {
            let snapshot: Ledger? = index % 2 == 1 ? ledger : nil
            let start = Bench.now()
            _ = try? ledger.apply(fact, recordedAt: now)
            let micros = Double(Bench.now() - start) / 1e3
            if snapshot == nil { alone.append(micros) } else { held.append(micros) }
            withExtendedLifetime(snapshot) {}
        }
        return [
            "events_replayed": Int(events), "replay_events_per_s": Bench.round(Double(events) / replaySeconds),
            "participants": ledger.participantCount(program: "bench"),
            "apply_us_p50_alone": Bench.round(Bench.percentile(&alone, 0.5), 1),
            "apply_us_p50_with_snapshot_held": Bench.round(Bench.percentile(&held, 0.5), 1),
            "apply_us_p99_with_snapshot_held": Bench.round(Bench.percentile(&held, 0.99), 1),
            "snapshot": snapshot,
        ]
    }

    /// The snapshot of `ledger` (the state at the log's head) taken both ways, and read back.
    static func snapshotOptions(_ ledger: Ledger, log: EventLog) throws -> [String: Any] {
        let (state, encodeSeconds, decodeSeconds) = try Bench.snapshotRoundTrip(ledger)
        var writer = ledger
        var copy: Ledger?
        let detachSeconds = Bench.time {
            copy = writer
            writer.detach()
        }
        withExtendedLifetime(copy) {}
        var frame: [UInt8] = []
        let compressSeconds = try Bench.time { frame = try Zstd.Compressor(level: 1, checksum: true).compress(state) }
        var report: LedgerReplay.RestoreReport?
        let restoreSeconds = try Bench.time { report = try LedgerReplay.restore(log).report }
        return [
            "state_bytes": state.count, "zstd_bytes": frame.count,
            "stall_seconds_encode_on_writer": Bench.round(encodeSeconds, 3),
            "stall_seconds_copy_and_detach": Bench.round(detachSeconds, 3),
            "compress_seconds": Bench.round(compressSeconds, 3), "decode_seconds": Bench.round(decodeSeconds, 3),
            "restore_seconds": Bench.round(restoreSeconds, 3),
            "restore_snapshot_seq": Int(report?.snapshotSeq ?? 0),
            "restore_replayed_events": Int(report?.replayedEvents ?? 0),
        ]
    }

    struct PostRun {
        var facts = 0
        var failed = 0
        var seconds = 0.0
        var latenciesMillis: [Double] = []
    }

    /// Posts NDJSON batches from `connections` threads (each takes the next batch).
    private func post(batches: [[[UInt8]]], connections: Int, socket: String) throws -> PostRun {
        let next = Atomic(0)
        let bodies = batches.map { lines in Array(lines.map { $0 + [0x0A] }.joined()) }
        return try measure(connections: connections, socket: socket) { client, run in
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < bodies.count else { return }
                let start = Bench.now()
                let response = try client.request(
                    "POST",
                    "/v1/events",
                    body: bodies[index],
                    contentType: "application/x-ndjson"
                )
                run.latenciesMillis.append(Double(Bench.now() - start) / 1e6)
                let lines = response.body.split(separator: 0x0A)
                run.facts += batches[index].count
                run.failed +=
                    lines.filter { !$0.starts(with: Array(#"{"seq":"#.utf8)) }.count + batches[index].count
                    - lines.count
            }
        }
    }

    private func measure(
        connections: Int,
        socket path: String,
        _ body: @escaping @Sendable (UnixHTTPClient, inout PostRun) throws -> Void
    ) throws -> PostRun {
        let runs = Mutex<[PostRun]>([])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        let start = Bench.now()
        for _ in 0..<connections {
            group.enter()
            Thread {
                var run = PostRun()
                do {
                    try body(UnixHTTPClient(socketPath: path, timeoutSeconds: 120), &run)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                runs.withLock { $0.append(run) }
                group.leave()
            }.start()
        }
        group.wait()
        let seconds = Double(Bench.now() - start) / 1e9
        if let failure = failures.withLock({ $0.first }) { throw BenchFailure(description: failure) }
        return runs.withLock { runs in
            runs.reduce(into: PostRun(seconds: seconds)) { total, run in
                total.facts += run.facts
                total.failed += run.failed
                total.latenciesMillis += run.latenciesMillis
            }
        }
    }
}

struct BenchFailure: Error, CustomStringConvertible { var description: String }
