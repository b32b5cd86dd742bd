import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport

/// `refledger-bench store`: the durable append path of issue 2 against raw LMDB, bytes per
/// event with and without the zstd dictionary, export and chain-verify rates.
struct StoreBenchmark {
    let eventsAtLargeBatch: Int
    /// Only the stage breakdown (`--stages-only`), for quick looks while tuning.
    let stagesOnly: Bool

    init(arguments: [String]) throws {
        eventsAtLargeBatch = try Bench.option("events", in: arguments, default: 1_000_000, minimum: 1)
        stagesOnly = arguments.contains("--stages-only")
    }

    /// Facts of the kinds a referral service posts, ~200 bytes each as posted.
    static func facts(count: Int) -> [[UInt8]] {
        var random = SeededGenerator(seed: 42)
        let base = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!.millisecondsSinceEpoch
        return (0..<count).map { index in
            let time = Timestamp(millisecondsSinceEpoch: base + Int64(index) * 1000 + Int64(random.next() % 1000))
            let participant = "user-\(random.next() % 200_000)"
            let line: String
            switch random.next() % 4 {
            case 0:
                line =
                    #"{"id":"evt-\#(index)","type":"invite","program":"spring-promo","time":"\#(time)","participant":"\#(participant)","channel":"email","invitee":"h-\#(random.next() % 1_000_000_000)"}"#
            case 1:
                line =
                    #"{"id":"evt-\#(index)","type":"click","program":"spring-promo","time":"\#(time)","code":"C\#(random.next() % 100_000)X","visitor":"v-\#(random.next() % 10_000_000)","channel":"link"}"#
            case 2:
                line =
                    #"{"id":"evt-\#(index)","type":"signup","program":"spring-promo","time":"\#(time)","participant":"\#(participant)-\#(index)","referrer_code":"C\#(random.next() % 100_000)X","visitor":"v-\#(random.next() % 10_000_000)"}"#
            default:
                line =
                    #"{"id":"evt-\#(index)","type":"conversion","program":"spring-promo","time":"\#(time)","participant":"\#(participant)","order":"ord-\#(index)","amount":\#(500 + random.next() % 50_000),"currency":"USD"}"#
            }
            return Array(line.utf8)
        }
    }

    struct AppendRun {
        var eventsPerSecond: Double
        var meanValueBytes: Double
        /// CPU of the whole process (every thread, user and system) per event.
        var cpuMicrosecondsPerEvent: Double
    }

    /// Decode + canonical encode + hash + compress + put, one durable commit per `batch`.
    /// Decoding and canonical encoding of a batch run on every core (``Parallel``), one batch
    /// ahead of the append, as `import` does.
    static func appendPath(
        _ facts: [[UInt8]],
        batch: Int,
        directory: String,
        options: EventLog.Options
    ) throws
        -> (run: AppendRun, log: EventLog)
    {
        let log = try EventLog.open(directory: directory, readOnly: false, options: options)
        let now = Timestamp(rfc3339: "2026-11-22T00:00:00Z")!
        let encode: @Sendable (Int) -> [Result<EventLog.Entry, LedgerError>] = { start in
            let end = min(start + batch, facts.count)
            let firstSeq = UInt64(start) + 1
            return Parallel.map(end - start) { offset in
                Result { () throws(LedgerError) in
                    let fact = try FactDecoder.decode(facts[start + offset], now: now)
                    let stored = StoredEvent(fact: fact, seq: firstSeq + UInt64(offset), recordedAt: now)
                    return EventLog.Entry(id: fact.id, seq: stored.seq, body: stored.canonicalBody())
                }
            }
        }
        let cpuBefore = Bench.cpuSeconds(ofProcess: getpid())
        let seconds = try Bench.time {
            // The next batch is decoded while this one is appended.
            var next = Ahead { encode(0) }
            var start = 0
            while start < facts.count {
                let encoded = next.wait()
                let following = start + batch
                if following < facts.count { next = Ahead { encode(following) } }
                _ = try log.append(encoded.map { try $0.get() })
                start = following
            }
        }
        let cpuSeconds = Bench.cpuSeconds(ofProcess: getpid()) - cpuBefore
        let stats = try log.storageStats()
        let run = AppendRun(
            eventsPerSecond: Double(facts.count) / seconds,
            meanValueBytes: Double(stats.logValueBytes) / Double(max(1, stats.records)),
            cpuMicrosecondsPerEvent: cpuSeconds * 1e6 / Double(max(1, facts.count))
        )
        return (run, log)
    }

    /// Nanoseconds per event of each stage of the append path, measured apart (batches of
    /// 10,000): where the time of `append` goes.
    static func stages(_ facts: [[UInt8]], directory: String) throws -> [String: Any] {
        let now = Timestamp(rfc3339: "2026-11-22T00:00:00Z")!
        let cpuStart = Bench.threadCPUNanoseconds()
        var decoded: [Fact] = []
        decoded.reserveCapacity(facts.count)
        let decode = try Bench.time { for line in facts { decoded.append(try FactDecoder.decode(line, now: now)) } }
        var stored: [StoredEvent] = []
        stored.reserveCapacity(facts.count)
        let build = Bench.time {
            for (index, fact) in decoded.enumerated() {
                stored.append(StoredEvent(fact: fact, seq: UInt64(index + 1), recordedAt: now))
            }
        }
        var entries: [EventLog.Entry] = []
        entries.reserveCapacity(facts.count)
        let encode = Bench.time {
            for event in stored {
                entries.append(EventLog.Entry(id: event.id, seq: event.seq, body: event.canonicalBody()))
            }
        }
        let log = try EventLog.open(directory: directory, readOnly: false, options: EventLog.Options())
        defer { log.close() }
        let append = try Bench.time {
            var start = 0
            while start < entries.count {
                let end = min(start + 10_000, entries.count)
                _ = try log.append(Array(entries[start..<end]))
                start = end
            }
        }
        let perEvent = { (seconds: Double) in Bench.round(seconds * 1e9 / Double(max(1, facts.count))) }
        let cpu = Double(Bench.threadCPUNanoseconds() - cpuStart) / 1e9
        return [
            "total_wall_ns": perEvent(decode + build + encode + append), "total_thread_cpu_ns": perEvent(cpu),
            "events": facts.count, "decode_ns": perEvent(decode), "stored_event_ns": perEvent(build),
            "canonical_json_ns": perEvent(encode), "log_append_ns": perEvent(append),
        ]
    }

    func run() throws {
        let large = StoreBenchmark.facts(count: eventsAtLargeBatch)
        var results: [String: Any] = [:]
        let stageDirectory = try Bench.scratchDirectory("stages")
        Bench.note("stages of the append path, apart")
        results["append_stages_per_event"] = try Self.stages(Array(large.prefix(200_000)), directory: stageDirectory)
        try? FileManager.default.removeItem(atPath: stageDirectory)
        if stagesOnly { return try Bench.printJSON(["benchmark": "store", "results": results]) }
        // The facts' ids, for the raw baseline that also puts every id (outside any timing).
        let now = Timestamp(rfc3339: "2026-11-22T00:00:00Z")!
        // The benchmark's own facts, every one valid.
        let ids = Parallel.map(large.count) { index in Array(try! FactDecoder.decode(large[index], now: now).id.utf8) }
        var appendRows: [[String: Any]] = []
        var dictionaryLog: EventLog?
        for (batch, wanted) in [(1, 2_000), (100, 100_000), (10_000, eventsAtLargeBatch)] {
            // `--events` below a row's count shortens that row too: each row appends (and puts
            // raw) only as many events as were generated.
            let count = min(wanted, large.count)
            let facts = Array(large.prefix(count))
            Bench.note("append path: \(count) events in batches of \(batch)")
            let directory = try Bench.scratchDirectory("append-\(batch)")
            let (run, log) = try Self.appendPath(facts, batch: batch, directory: directory, options: EventLog.Options())
            let rawDirectory = try Bench.scratchDirectory("raw-\(batch)")
            Bench.note("raw LMDB: \(count) values of \(Int(run.meanValueBytes)) bytes in batches of \(batch)")
            let raw = try RawLMDB.measure(
                directory: rawDirectory,
                valueSizeBytes: Int(run.meanValueBytes.rounded()),
                batchSize: batch,
                totalEvents: count
            )
            Bench.note("raw LMDB: the same values and every event's id in batches of \(batch)")
            let rawWithIDs = try RawLMDB.measure(
                directory: rawDirectory,
                valueSizeBytes: Int(run.meanValueBytes.rounded()),
                batchSize: batch,
                totalEvents: count,
                ids: ids
            )
            try? FileManager.default.removeItem(atPath: rawDirectory)
            appendRows.append([
                "batch": batch, "events": count, "events_per_s": Bench.round(run.eventsPerSecond),
                "raw_lmdb_events_per_s": Bench.round(raw), "ratio_to_raw": Bench.round(run.eventsPerSecond / raw, 3),
                "raw_lmdb_log_and_id_events_per_s": Bench.round(rawWithIDs),
                "ratio_to_raw_log_and_id": Bench.round(run.eventsPerSecond / rawWithIDs, 3),
                "commits_per_s": Bench.round(run.eventsPerSecond / Double(batch)),
                "cpu_us_per_event": Bench.round(run.cpuMicrosecondsPerEvent, 2),
            ])
            if batch == 10_000 {
                dictionaryLog = log
            } else {
                log.close()
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        results["append"] = appendRows

        guard let log = dictionaryLog else { return }
        // Bytes per event: the same events without a dictionary.
        let plainDirectory = try Bench.scratchDirectory("plain")
        var plainOptions = EventLog.Options()
        plainOptions.useDictionary = false
        let sample = Array(large.prefix(200_000))
        let (_, plainLog) = try Self.appendPath(sample, batch: 10_000, directory: plainDirectory, options: plainOptions)
        let plainStats = try plainLog.storageStats()
        let stats = try log.storageStats()
        var canonicalBytes = 0
        try log.scan(from: 1, through: UInt64(sample.count)) { record in canonicalBytes += try record.fullJSON().count }
        let canonicalPerEvent = Double(canonicalBytes) / Double(sample.count)
        let plainPerEvent = Double(plainStats.logValueBytes) / Double(plainStats.records)
        let dictionaryPerEvent = Double(stats.logValueBytes) / Double(stats.records)
        results["bytes_per_event"] = [
            "canonical_json": Bench.round(canonicalPerEvent),
            "record_zstd_no_dictionary": Bench.round(plainPerEvent),
            "record_zstd_dictionary": Bench.round(dictionaryPerEvent),
            "dictionary_ratio_to_canonical": Bench.round(dictionaryPerEvent / canonicalPerEvent, 3),
            "no_dictionary_ratio_to_canonical": Bench.round(plainPerEvent / canonicalPerEvent, 3),
            "data_file_bytes_per_event": Bench.round(Double(stats.dataFileBytes) / Double(stats.records)),
            "records_by_codec": stats.recordsByCodec,
        ]
        plainLog.close()
        try? FileManager.default.removeItem(atPath: plainDirectory)

        // Export: full JSON of every event into one zstd stream (to /dev/null).
        let head = try log.head().seq
        Bench.note("export of \(head) events")
        let devNull = open("/dev/null", O_WRONLY)
        let writer = try Zstd.StreamWriter(fileDescriptor: devNull)
        var line: [UInt8] = []
        let exportSeconds = try Bench.time {
            try log.scan(from: 1, through: head) { record in
                line.removeAll(keepingCapacity: true)
                line.append(contentsOf: try record.fullJSON())
                line.append(0x0A)
                try writer.write(line)
            }
            try writer.finish()
        }
        close(devNull)
        Bench.note("verify of \(head) events")
        var report: EventLog.ChainReport?
        let verifySeconds = try Bench.time { report = try log.verifyChain(progress: nil) }
        results["export_events_per_s"] = Bench.round(Double(head) / exportSeconds)
        results["verify_chain_events_per_s"] = Bench.round(Double(head) / verifySeconds)
        results["verify_ok"] = report?.isValid ?? false
        results["events_in_log"] = head
        results["rss_bytes"] = Bench.residentBytes()
        results["targets"] = [
            "append_10000_events_per_s": 300_000, "append_10000_ratio_to_raw": 0.3,
            "dictionary_ratio_to_canonical_max": 0.4, "verify_events_per_s": 1_000_000,
        ]
        log.close()
        try Bench.printJSON(["benchmark": "store", "results": results])
    }
}
