import Foundation
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// A small stream of facts that touches every fact type and derives rewards and reversals.
let sampleFacts = """
    {"id":"p1","type":"program","program":"shop","time":"2026-11-01T00:00:00Z","rules":{"currency":"USD","referrer_reward":{"percent_bps":500},"referee_reward":{"fixed":1000}}}
    {"id":"s1","type":"signup","program":"shop","time":"2026-11-02T00:00:00Z","participant":"alice","code":"ALICE","visitor":"va"}
    {"id":"i1","type":"invite","program":"shop","time":"2026-11-02T01:00:00Z","participant":"alice","channel":"email","invitee":"h-bob"}
    {"id":"k1","type":"click","program":"shop","time":"2026-11-02T02:00:00Z","code":"alice","visitor":"vb"}
    {"id":"s2","type":"signup","program":"shop","time":"2026-11-03T00:00:00Z","participant":"bob","visitor":"vb"}
    {"id":"c1","type":"conversion","program":"shop","time":"2026-11-04T00:00:00Z","participant":"bob","order":"o1","amount":10000,"currency":"USD"}
    {"id":"r1","type":"refund","program":"shop","time":"2026-11-05T00:00:00Z","order":"o1","amount":2500}
    {"id":"x1","type":"payout","program":"shop","time":"2026-11-06T00:00:00Z","participant":"alice","payout":"pay1","amount":300,"currency":"USD"}
    {"id":"x2","type":"payout_settled","program":"shop","time":"2026-11-07T00:00:00Z","payout":"pay1"}
    {"id":"x3","type":"payout","program":"shop","time":"2026-11-08T00:00:00Z","participant":"bob","payout":"pay2","amount":100,"currency":"USD"}
    {"id":"x4","type":"payout_failed","program":"shop","time":"2026-11-09T00:00:00Z","payout":"pay2","reason":"closed account"}

    """

/// Imports `facts` into a fresh data dir and returns it.
func importedDirectory(_ facts: String = sampleFacts) throws -> TemporaryDirectory {
    let directory = try TemporaryDirectory("cli")
    let file = directory.appending("facts.ndjson")
    try facts.write(toFile: file, atomically: true, encoding: .utf8)
    let result = try runCommand("refledger", ["import", file, "--data", directory.appending("data")])
    #expect(result.status == 0, "\(result.stderr)")
    return directory
}

/// Writes `facts` into `directory` and imports them into its `data` directory.
func runImport(_ facts: String, in directory: TemporaryDirectory) throws -> (result: CommandResult, data: String) {
    let file = directory.appending("facts.ndjson")
    try facts.write(toFile: file, atomically: true, encoding: .utf8)
    let data = directory.appending("data")
    return (try runCommand("refledger", ["import", file, "--data", data]), data)
}

@Suite struct CLITests {
    @Test func exportRecomputesInPythonToTheDigest() throws {
        let directory = try importedDirectory()
        defer { directory.remove() }
        let data = directory.appending("data")
        let export = directory.appending("events.ndjson.zst")
        #expect(try runCommand("refledger", ["export", "--data", data, "-o", export]).status == 0)
        let digest = try runCommand("refledger", ["digest", "--data", data])
        // An auditor's few lines of Python: recompute every hash from the export alone.
        let script = """
            import hashlib, json, subprocess, sys
            lines = subprocess.run(["zstd", "-dc", sys.argv[1]], capture_output=True, check=True).stdout.splitlines()
            prev = "0" * 64
            for n, line in enumerate(lines, 1):
                event = json.loads(line)
                assert event["seq"] == n and event["prev"] == prev, n
                claimed = event.pop("hash")
                body = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                assert line.decode() == json.dumps(dict(event, hash=claimed), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                prev = hashlib.sha256((prev + "\\n" + body).encode()).hexdigest()
                assert prev == claimed, n
            print(json.dumps({"seq": len(lines), "hash": prev}, separators=(",", ":")))
            """
        let python = try runCommand("/usr/bin/env", ["python3", "-c", script, export])
        #expect(python.status == 0, "\(python.stderr)")
        #expect(python.output == digest.output)
        #expect(digest.output.contains(#""seq":15"#))
    }

    @Test func exportHonoursItsRangeAndZstdReadsIt() throws {
        let directory = try importedDirectory()
        defer { directory.remove() }
        let export = directory.appending("part.zst")
        let result = try runCommand(
            "refledger",
            ["export", "--data", directory.appending("data"), "--from", "3", "--to", "5", "-o", export]
        )
        #expect(result.status == 0)
        let plain = try runCommand("/usr/bin/env", ["zstd", "-dc", export])
        let seqs = plain.output.split(separator: "\n").map { line -> Int in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["seq"] as? Int ?? -1
        }
        #expect(seqs == [3, 4, 5])
    }

    @Test func flippingOneStoredByteFailsVerifyAtThatSeq() throws {
        for (seq, offset) in [(UInt64(6), 40), (UInt64(9), 10), (UInt64(1), 3)] {
            let directory = try importedDirectory()
            defer { directory.remove() }
            let data = directory.appending("data")
            #expect(try runCommand("refledger", ["verify", "--data", data]).status == 0)
            try flipByte(in: data, seq: seq, offset: offset)
            let result = try runCommand("refledger", ["verify", "--data", data])
            #expect(result.status == 1)
            #expect(result.output.contains("seq \(seq)"), "\(result.output)")
        }
    }

    /// Writes LMDB directly: one byte of the stored record at `seq`, flipped.
    private func flipByte(in data: String, seq: UInt64, offset: Int) throws {
        let environment = try LMDB.Environment(path: data, flags: [], maxDatabases: 16)
        defer { environment.close() }
        let transaction = try environment.beginTransaction(readOnly: false)
        let log = try transaction.openDatabase("log", create: false)
        let key = withUnsafeBytes(of: seq.bigEndian) { Array($0) }
        guard var value = try transaction.get(log, key: key) else {
            transaction.abort()
            Issue.record("no record at \(seq)")
            return
        }
        value[min(offset, value.count - 1)] ^= 0x01
        try transaction.put(log, key: key, value: value)
        try transaction.commit()
    }

    @Test func importReportsRejectedLinesAndStoresNothingForThem() throws {
        let directory = try TemporaryDirectory("cli")
        defer { directory.remove() }
        let facts =
            sampleFacts + """
                {"id":"bad1","type":"conversion","program":"shop","time":"2026-11-10T00:00:00Z","participant":"bob","order":"o2","amount":0,"currency":"USD"}
                {"id":"bad2","type":"conversion","program":"shop","time":"2026-11-10T00:00:00Z","participant":"nobody","order":"o2","amount":5,"currency":"USD"}
                not json
                {"id":"c1","type":"conversion","program":"shop","time":"2026-11-04T00:00:00Z","participant":"bob","order":"o1","amount":10000,"currency":"USD"}
                {"id":"c1","type":"conversion","program":"shop","time":"2026-11-04T00:00:00Z","participant":"bob","order":"o1","amount":99,"currency":"USD"}

                """
        let (result, data) = try runImport(facts, in: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("line 12: bad_value (amount)"), "\(result.stderr)")
        #expect(result.stderr.contains("line 13: unknown_participant (participant)"))
        #expect(result.stderr.contains("line 14: bad_json"))
        #expect(result.stderr.contains("line 16: id_conflict (id)"))
        #expect(result.stderr.contains("1 duplicates, 4 rejected"))
        #expect(try runCommand("refledger", ["digest", "--data", data]).output.contains(#""seq":15"#))
        // The same file again: every accepted fact is now a duplicate, found through the id index.
        let again = try runImport(facts, in: directory).result
        #expect(again.stderr.contains("imported 0 facts (0 events), 12 duplicates, 4 rejected"), "\(again.stderr)")
        #expect(try runCommand("refledger", ["digest", "--data", data]).output.contains(#""seq":15"#))
    }

    /// Blank lines (spaces, tabs, `\r`) are skipped, not judged, but still counted in the line
    /// numbers rejections name; CRLF line ends read as LF.
    @Test func importSkipsBlankLinesAndCountsThem() throws {
        let directory = try TemporaryDirectory("cli")
        defer { directory.remove() }
        let lines = sampleFacts.split(separator: "\n").map(String.init)
        let facts =
            "\r\n \t\r\n" + lines[0] + "\r\n\t\r \n" + lines[1...].joined(separator: "\r\n")
            + "\r\n\r\n   \n{\"id\":\"bad\"}\r\n"
        let (result, data) = try runImport(facts, in: directory)
        #expect(result.status == 1)
        // Two blank lines, the program, one more blank line, the other 10 facts, three blank
        // lines: the bad line is line 17.
        #expect(result.stderr.contains("line 17: missing_field"), "\(result.stderr)")
        #expect(result.stderr.contains("imported 11 facts (15 events), 0 duplicates, 1 rejected"), "\(result.stderr)")
        #expect(try runCommand("refledger", ["digest", "--data", data]).output.contains(#""seq":15"#))
    }

    /// A fact line that sets members only the log writes is a fact with unknown fields, also
    /// as the first line of a file (not the start of an export).
    @Test func aFirstFactWithLogMembersIsJudgedAsAFact() throws {
        let directory = try TemporaryDirectory("cli")
        defer { directory.remove() }
        let facts = """
            {"id":"p0","type":"program","program":"a","time":"2026-01-01T00:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1}},"seq":1,"hash":"00"}
            {"id":"p1","type":"program","program":"a","time":"2026-01-01T00:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1}}}

            """
        let (result, data) = try runImport(facts, in: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("line 1: unknown_field"), "\(result.stderr)")
        #expect(result.stderr.contains("imported 1 facts (1 events), 0 duplicates, 1 rejected"), "\(result.stderr)")
        #expect(try runCommand("refledger", ["digest", "--data", data]).output.contains(#""seq":1"#))
    }

    @Test func importReadsZstdInput() throws {
        let directory = try TemporaryDirectory("cli")
        defer { directory.remove() }
        let file = directory.appending("facts.ndjson")
        try sampleFacts.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try runCommand("/usr/bin/env", ["zstd", "-q", file, "-o", file + ".zst"]).status == 0)
        let result = try runCommand("refledger", ["import", file + ".zst", "--data", directory.appending("data")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("imported 11 facts (15 events)"))
    }

    @Test func queriesPrintJSONCSVAndTables() throws {
        let directory = try importedDirectory()
        defer { directory.remove() }
        let data = directory.appending("data")
        let participant = try runCommand("refledger", ["query", "participant", "shop", "alice", "--data", data])
        #expect(
            participant.output
                == #"{"program":"shop","participant":"alice","code":"ALICE","referrer":null,"signup_time":"2026-11-02T00:00:00.000Z","referees":1,"balance":{"pending":0,"earned":375,"reversed":125,"reserved":0,"currency":"USD","paid":300,"available":75}}"#
                + "\n"
        )
        let metrics = try runCommand("refledger", ["query", "metrics", "shop", "--data", data, "--format", "csv"])
        let lines = metrics.output.split(separator: "\r\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("program,from,to,as_of,participants,referred,invites,clicks") == true)
        #expect(lines.last?.hasPrefix("shop,,,15,2,1,1,1,1,1,0.5,1.0,0.5,1.0,1.0,1,7500,1125") == true)
        let asOf = try runCommand("refledger", ["query", "metrics", "shop", "--data", data, "--as-of", "3"])
        #expect(asOf.output.contains(#""as_of":3,"participants":1"#))
        let board = try runCommand(
            "refledger",
            ["query", "leaderboard", "shop", "--data", data, "--by", "rewards", "--format", "table"]
        )
        #expect(board.output.split(separator: "\n").count == 3)
        let bad = try runCommand("refledger", ["query", "leaderboard", "shop", "--data", data, "--limit", "0"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("bad_value"))
        let missing = try runCommand("refledger", ["query", "metrics", "shop", "--data", data, "--as-of", "0"])
        #expect(missing.stderr.contains("not_found"))
    }

    @Test func helpListsTheCommands() throws {
        let help = try runCommand("refledger", ["--help"])
        for command in ["import", "export", "verify", "digest", "query"] {
            #expect(help.output.contains(command))
        }
    }
}
