import Foundation
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// Tests that run `refledger-torture` as a separate writer process.
@Suite struct ProcessTests {
    private var torture: String { builtExecutable("refledger-torture") }

    /// Starts `refledger-torture append` with its standard output going to `outputPath`.
    private func startTorture(_ arguments: [String], outputPath: String) throws -> Process {
        #expect(
            FileManager.default.isExecutableFile(atPath: torture),
            "build refledger-torture first (swift build --build-tests)"
        )
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: torture)
        process.arguments = ["append"] + arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The seqs a torture run printed (a line cut by the kill is ignored).
    private func printedSeqs(_ outputPath: String) throws -> [UInt64] {
        let text = try String(contentsOfFile: outputPath, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).compactMap { UInt64($0) }
    }

    @Test func aSecondWriterIsRefusedWhileReadersFollowAGrowingMap() throws {
        let directory = try TemporaryDirectory("proc")
        defer { directory.remove() }
        let data = directory.appending("data")
        let output = directory.appending("out.txt")
        // A 64 KiB map that grows many times while this process reads.
        let writer = try startTorture([data, "400", "50", "4096", "65536"], outputPath: output)
        defer { if writer.isRunning { kill(writer.processIdentifier, SIGKILL) } }

        let deadline = Date().addingTimeInterval(20)
        while (try? printedSeqs(output).last) == nil, Date() < deadline { usleep(2_000) }
        try #require(try printedSeqs(output).last != nil, "the writer committed something")

        if writer.isRunning {
            let refused = #expect(throws: StoreError.self) { try EventLog.open(directory: data, readOnly: false) }
            #expect(refused?.code == .directoryLocked)
            #expect(refused?.message.contains("another refledger process (daemon or import)") == true)
            #expect(refused?.message.contains("pid \(writer.processIdentifier)") == true)
        }

        let log = try EventLog.open(directory: data, readOnly: true)
        defer { log.close() }
        // One environment per process: a second open here is refused, not silently allowed.
        let twice = #expect(throws: StoreError.self) { try EventLog.open(directory: data, readOnly: true) }
        #expect(twice?.message.contains("already has the data directory") == true)

        var observed: [UInt64] = []
        while writer.isRunning {
            let head = try log.head()
            if head.seq > 0 {
                let record = try #require(try log.record(at: head.seq))
                #expect(record.hash == head.hash)
            }
            if observed.last != head.seq { observed.append(head.seq) }
        }
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0)
        #expect(observed == observed.sorted())
        #expect(observed.count >= 2, "the reader saw the log grow")
        #expect(try log.head().seq == 20_000)
        #expect(try log.verifyChain().isValid)
        let stats = try log.storageStats()
        #expect(stats.mapSizeBytes > 1 << 20)
        log.close()
        // The writer lock is free again.
        try EventLog.open(directory: data, readOnly: false).close()
    }

    @Test func survivesBeingKilledAtRandomMoments() throws {
        let directory = try TemporaryDirectory("crash")
        defer { directory.remove() }
        let data = directory.appending("data")
        var generator = SeededGenerator(seed: 0xC0FFEE)
        var acknowledged: UInt64 = 0
        var rounds = 0
        var killedWhileWriting = 0
        while rounds < 24 {
            rounds += 1
            let output = directory.appending("out-\(rounds).txt")
            let batchSize = Int.random(in: 1...64, using: &generator)
            let delayMicros = UInt32.random(in: 5_000...150_000, using: &generator)
            // Most rounds count the delay from the first acknowledged commit (process start-up
            // time varies with machine load); every fourth from the start, to hit opening too.
            let fromStart = rounds % 4 == 0
            let writer = try startTorture([data, "1000000", String(batchSize), "300"], outputPath: output)
            if !fromStart {
                let deadline = Date().addingTimeInterval(10)
                while writer.isRunning, (try? printedSeqs(output).isEmpty) ?? true, Date() < deadline { usleep(1_000) }
            }
            usleep(delayMicros)
            kill(writer.processIdentifier, SIGKILL)
            writer.waitUntilExit()
            #expect(writer.terminationReason == .uncaughtSignal)

            let printed = try printedSeqs(output)
            if !printed.isEmpty { killedWhileWriting += 1 }
            #expect(printed == printed.sorted())
            acknowledged = max(acknowledged, printed.last ?? 0)

            let log = try EventLog.open(directory: data, readOnly: false)
            defer { log.close() }
            let head = try log.head()
            #expect(head.seq >= acknowledged, "round \(rounds): every acknowledged seq survives")
            var seen: UInt64 = 0
            try log.scan(from: 1, through: head.seq) { record in
                seen += 1
                #expect(record.seq == seen)
            }
            #expect(seen == head.seq)
            let report = try log.verifyChain()
            #expect(report.isValid, "round \(rounds): \(report.reason ?? "")")
            acknowledged = head.seq
        }
        #expect(killedWhileWriting >= rounds / 2, "most rounds were killed mid-stream")
        let log = try EventLog.open(directory: data, readOnly: true)
        defer { log.close() }
        #expect(try log.head().seq >= 300, "the dictionary training point was passed")
    }
}
