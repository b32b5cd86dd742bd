import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// A snapshot is a cache, never the truth: one damaged on disk (changed with LMDB directly)
/// is passed over for the next older one or a full replay, with the reason reported, and
/// `verify` names a snapshot that decodes but is not the state the log gives at its seq.
@Suite struct SnapshotDamageTests {
    /// Ways to damage a stored snapshot value (1-byte version, 32-byte head hash, zstd frame),
    /// with what the skip reason says.
    enum Damage: String, CaseIterable {
        case headHash, compressedByte, truncated, undecodableState, unknownVersion

        var reason: String {
            switch self {
            case .headHash: "does not match the log's hash"
            case .compressedByte, .truncated: "does not decompress"
            case .undecodableState: "snapshot damaged at byte"
            case .unknownVersion: "unknown format"
            }
        }

        func apply(to value: inout [UInt8]) throws {
            switch self {
            case .headHash: value[5] ^= 0x01
            case .compressedByte: value[value.count / 2] ^= 0x40
            case .truncated: value.removeLast(value.count / 3)
            case .unknownVersion: value[0] = 9
            case .undecodableState:
                // A well-formed frame with the right hash, of a state that is not one.
                var state = try Zstd.Decompressor().decompress(
                    Array(value[33...]),
                    dictionary: nil,
                    maxOutputBytes: 1 << 30
                )
                state.removeLast(state.count / 2)
                value = Array(value[..<33]) + (try Zstd.Compressor(level: 1, checksum: true).compress(state))
            }
        }
    }

    /// A generated log with snapshots after lines 1500 and 3000, in a new directory.
    private func snapshottedLog(_ directory: TemporaryDirectory) throws -> (data: String, older: UInt64, newer: UInt64)
    {
        let (lines, _) = generatedLines(seed: 42, count: 4000)
        let data = directory.appending("data")
        let seqs = try ingestWithSnapshots(lines, into: data, snapshotAfter: [1499, 2999])
        return (data, seqs[0], seqs[1])
    }

    private func damage(_ data: String, seq: UInt64, _ damage: Damage) throws {
        try tamperStoredValue(directory: data, database: "snapshots", key: seqKey(seq)) { value in
            var bytes = try #require(value)
            try damage.apply(to: &bytes)
            value = bytes
        }
    }

    @Test(arguments: Damage.allCases)
    func aDamagedNewestSnapshotGivesWayToTheOlderOne(_ kind: Damage) throws {
        let directory = try TemporaryDirectory("snapd")
        defer { directory.remove() }
        let (data, older, newer) = try snapshottedLog(directory)
        try damage(data, seq: newer, kind)
        let log = try EventLog.open(directory: data, readOnly: true)
        defer { log.close() }
        let (ledger, report) = try LedgerReplay.restore(log)
        #expect(report.snapshotSeq == older)
        #expect(report.replayedEvents == (try log.head().seq) - older)
        #expect(report.skipped.map(\.seq) == [newer])
        #expect(report.skipped.first?.reason.contains(kind.reason) == true, "\(report.skipped)")
        let full = try LedgerReplay.replay(log)
        #expect(ledger.snapshotBytes() == full.snapshotBytes())
        try expectSameAnswers(ledger, full, participants: everyParticipant(of: full))
    }

    @Test func withEverySnapshotDamagedTheWholeLogIsReplayed() throws {
        let directory = try TemporaryDirectory("snapd")
        defer { directory.remove() }
        let (data, older, newer) = try snapshottedLog(directory)
        try damage(data, seq: newer, .compressedByte)
        try damage(data, seq: older, .headHash)
        let log = try EventLog.open(directory: data, readOnly: true)
        let (ledger, report) = try LedgerReplay.restore(log)
        #expect(report.snapshotSeq == nil)
        #expect(report.replayedEvents == (try log.head().seq))
        #expect(report.skipped.map(\.seq) == [newer, older])
        #expect(ledger.snapshotBytes() == (try LedgerReplay.replay(log)).snapshotBytes())
        log.close()

        // `verify` replays from seq 1: damaged snapshots are noted, not failures.
        let verified = try runCommand("refledger", ["verify", "--data", data])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("note: snapshot at seq \(newer) does not decompress"), "\(verified.output)")
        #expect(verified.output.contains("0 snapshots equal the replayed state"), "\(verified.output)")
    }

    /// A snapshot that decodes and carries the right hash but holds another state (here the
    /// newer state relabelled as the older seq) would mislead a restart: `verify` fails on it.
    @Test func verifyNamesASnapshotThatIsNotTheReplayedState() throws {
        let directory = try TemporaryDirectory("snapd")
        defer { directory.remove() }
        let (data, older, newer) = try snapshottedLog(directory)
        var intact = try runCommand("refledger", ["verify", "--data", data])
        #expect(intact.status == 0)
        #expect(intact.output.contains("2 snapshots equal the replayed state"), "\(intact.output)")

        let log = try EventLog.open(directory: data, readOnly: true)
        var state = try #require(try log.snapshot(at: newer)).state
        log.close()
        // The head's varint follows the magic and the version; both seqs take as many bytes.
        let head = 5..<(5 + varint(newer).count)
        try #require(Array(state[head]) == varint(newer) && varint(older).count == head.count)
        state.replaceSubrange(head, with: varint(older))
        let frame = try Zstd.Compressor(level: 1, checksum: true).compress(state)
        try tamperStoredValue(directory: data, database: "snapshots", key: seqKey(older)) { value in
            value = Array(try #require(value)[..<33]) + frame
        }
        intact = try runCommand("refledger", ["verify", "--data", data])
        #expect(intact.status == 1)
        #expect(intact.output.contains("snapshot at seq \(older) differs from the state a fresh ledger reaches there"))
    }

    private func varint(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        return bytes + [UInt8(rest)]
    }
}
