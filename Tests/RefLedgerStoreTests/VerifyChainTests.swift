import Foundation
import RefLedgerStore
import RefLedgerTestSupport
import Testing

@Suite struct VerifyChainTests {
    /// Rewrites the stored `log` value at `seq` with LMDB directly, as an attacker or a bad disk would.
    private func tamper(directory: String, seq: UInt64, _ change: (inout [UInt8]) -> Void) throws {
        try tamperStoredValue(directory: directory, database: "log", key: seqKey(seq)) { value in
            var bytes = value ?? []
            change(&bytes)
            value = bytes
        }
    }

    private func makeLog(_ directory: TemporaryDirectory, count: Int, options: EventLog.Options) throws {
        var generator = SeededGenerator(seed: 11)
        let log = try EventLog.open(directory: directory.path, readOnly: false, options: options)
        defer { log.close() }
        try appendGenerated(to: log, total: count, batchSize: 1_000, using: &generator)
    }

    private func verify(_ directory: TemporaryDirectory) throws -> EventLog.ChainReport {
        let log = try EventLog.open(directory: directory.path, readOnly: true)
        defer { log.close() }
        return try log.verifyChain()
    }

    @Test func passesOnAGoodLogAndReportsProgress() throws {
        let directory = try TemporaryDirectory("vgood")
        defer { directory.remove() }
        try makeLog(directory, count: 2_000, options: EventLog.Options(dictionaryTrainingRecords: 500))
        let log = try EventLog.open(directory: directory.path, readOnly: true)
        defer { log.close() }
        var reported: [UInt64] = []
        let report = try log.verifyChain { reported.append($0) }
        #expect(report.isValid)
        #expect(report.checked == 2_000)
        #expect(report.head.seq == 2_000)
        #expect(report.reason == nil)
        #expect(reported.last == 2_000)
    }

    @Test func anEmptyLogIsValid() throws {
        let directory = try TemporaryDirectory("vempty")
        defer { directory.remove() }
        try makeLog(directory, count: 0, options: EventLog.Options())
        let report = try verify(directory)
        #expect(report.isValid)
        #expect(report.checked == 0)
    }

    @Test(arguments: [
        (useDictionary: false, seq: UInt64(1)), (useDictionary: false, seq: UInt64(437)),
        (useDictionary: true, seq: UInt64(2_000)), (useDictionary: true, seq: UInt64(1_500)),
    ])
    func namesTheSeqOfAFlippedPayloadByte(useDictionary: Bool, seq: UInt64) throws {
        let directory = try TemporaryDirectory("vpay")
        defer { directory.remove() }
        try makeLog(
            directory,
            count: 2_000,
            options: EventLog.Options(useDictionary: useDictionary, dictionaryTrainingRecords: 1_000)
        )
        try tamper(directory: directory.path, seq: seq) { value in value[value.count - 3] ^= 0x10 }
        let report = try verify(directory)
        #expect(report.firstBadSeq == seq)
        #expect(report.checked == seq - 1)
        #expect(report.reason != nil)
    }

    @Test(arguments: [UInt64(1), 999, 2_000])
    func namesTheSeqOfAFlippedHashByte(seq: UInt64) throws {
        let directory = try TemporaryDirectory("vhash")
        defer { directory.remove() }
        try makeLog(directory, count: 2_000, options: EventLog.Options())
        try tamper(directory: directory.path, seq: seq) { value in value[6 + 7] ^= 0x01 }
        let report = try verify(directory)
        #expect(report.firstBadSeq == seq)
        #expect(report.reason?.contains("hash") == true)
    }

    @Test func findsDamageInTheLaterHalfOfAParallelCheck() throws {
        let directory = try TemporaryDirectory("vpar")
        defer { directory.remove() }
        try makeLog(directory, count: 120_000, options: EventLog.Options(dictionaryTrainingRecords: 2_000))
        #expect(try verify(directory).isValid)
        try tamper(directory: directory.path, seq: 100_001) { value in value[value.count - 1] ^= 0xFF }
        try tamper(directory: directory.path, seq: 110_000) { value in value[0] = 9 }
        let report = try verify(directory)
        #expect(report.firstBadSeq == 100_001)
        #expect(report.checked == 100_000)
    }

    @Test func reportsAHeaderItCannotRead() throws {
        let directory = try TemporaryDirectory("vhdr")
        defer { directory.remove() }
        try makeLog(directory, count: 100, options: EventLog.Options())
        try tamper(directory: directory.path, seq: 42) { value in value = Array(value[..<10]) }
        let report = try verify(directory)
        #expect(report.firstBadSeq == 42)
        let log = try EventLog.open(directory: directory.path, readOnly: true)
        defer { log.close() }
        let error = #expect(throws: StoreError.self) { try log.record(at: 42) }
        #expect(error?.code == .corrupted)
        #expect(try log.record(at: 41) != nil)
    }
}
