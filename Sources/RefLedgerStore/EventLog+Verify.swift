import Dispatch
import Foundation
import Synchronization

extension EventLog {
    /// Records per read transaction during verification.
    static let verifyChunkRecords: UInt64 = 65_536

    /// Recomputes the whole chain, from seq 1 to the head recorded in `meta` when the check
    /// starts, and reports the first seq where the log is wrong.
    ///
    /// Checked: seqs are gapless from 1; every record's header and payload decode (damage is
    /// a bad record, never a crash); every stored hash equals the hash recomputed from the
    /// record's body with the previous record's stored hash as `prev`; the log ends at the
    /// head and the head's hash is the last record's. Records appended meanwhile are not
    /// checked. The work is split over the machine's cores, each with its own read
    /// transactions and decompression context.
    ///
    /// - Parameter progress: called on the calling thread, now and then, with the number of
    ///   records checked so far.
    /// - Throws: ``StoreError`` if the log cannot be read at all (not for bad records).
    public func verifyChain(progress: ((UInt64) -> Void)? = nil) throws -> ChainReport {
        let (head, lastSeq) = try withReadTransaction { txn, handles in
            let head = try Self.decodeHead(try txn.get(handles.meta, key: MetaKey.head))
            let cursor = try txn.openCursor(handles.log)
            defer { cursor.close() }
            let last = try cursor.last()
            return (head, last.flatMap { RecordFormat.seq(fromKey: $0.key) } ?? 0)
        }
        var bad: BadRecord?
        if head.seq > 0 {
            bad = try verifyRecords(through: head.seq, progress: progress)
        }
        if bad == nil, lastSeq > head.seq {
            bad = BadRecord(seq: head.seq + 1, reason: "the log holds records beyond its head (up to seq \(lastSeq))")
        }
        if bad == nil, head.seq > 0 {
            let stored = try withReadTransaction { txn, handles in
                try storedHash(at: head.seq, txn: txn, handles: handles)
            }
            if stored != head.hash {
                bad = BadRecord(
                    seq: head.seq,
                    reason: "meta's head hash \(Chain.hex(head.hash)) differs from the record's \(Chain.hex(stored))"
                )
            }
        }
        let checked = (bad?.seq ?? head.seq + 1) - 1
        progress?(checked)
        return ChainReport(head: head, checked: checked, firstBadSeq: bad?.seq, reason: bad?.reason)
    }

    struct BadRecord: Sendable {
        var seq: UInt64
        var reason: String
    }

    /// What the verifying threads share: the progress count, the lowest bad record, the first
    /// failure.
    private final class VerifyShared: Sendable {
        let checked = Atomic<UInt64>(0)
        let bad = Mutex<BadRecord?>(nil)
        let failure = Mutex<(any Error)?>(nil)

        func report(_ record: BadRecord) {
            bad.withLock { current in
                if record.seq < current?.seq ?? UInt64.max { current = record }
            }
        }

        /// Whether a bad record below `seq` is known (checking from `seq` on is then moot).
        func hasBadRecord(below seq: UInt64) -> Bool {
            bad.withLock { current in current.map { $0.seq < seq } ?? false }
        }
    }

    private func verifyRecords(through headSeq: UInt64, progress: ((UInt64) -> Void)?) throws -> BadRecord? {
        let workers = headSeq < 50_000 ? 1 : Parallel.workers
        let share = headSeq / UInt64(workers)
        let ranges: [ClosedRange<UInt64>] = (0..<workers).map { index in
            let low = 1 + UInt64(index) * share
            let high = index == workers - 1 ? headSeq : low + share - 1
            return low...high
        }
        let shared = VerifyShared()
        let group = DispatchGroup()
        for range in ranges.dropFirst() {
            DispatchQueue.global().async(group: group) {
                do {
                    try self.verifyRange(range, shared: shared, progress: nil)
                } catch {
                    shared.failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        do {
            try verifyRange(ranges[0], shared: shared, progress: progress)
        } catch {
            shared.failure.withLock { if $0 == nil { $0 = error } }
        }
        while group.wait(timeout: .now() + .milliseconds(200)) == .timedOut {
            progress?(shared.checked.load(ordering: .relaxed))
        }
        if let failure = shared.failure.withLock({ $0 }) { throw failure }
        return shared.bad.withLock { $0 }
    }

    /// Checks the records of `range`, in chunks of one read transaction each.
    private func verifyRange(_ range: ClosedRange<UInt64>, shared: VerifyShared, progress: ((UInt64) -> Void)?) throws {
        let decoder = try RecordDecoder()
        let hasher = ChainHasher()
        var prev: [UInt8]?
        var next = range.lowerBound
        while next <= range.upperBound, !shared.hasBadRecord(below: next) {
            let chunkEnd = min(range.upperBound, next + Self.verifyChunkRecords - 1)
            let outcome = try withReadTransaction { txn, handles in
                try verifyChunk(
                    next...chunkEnd,
                    prev: &prev,
                    decoder: decoder,
                    hasher: hasher,
                    txn: txn,
                    handles: handles
                )
            }
            let checkedNow = (outcome?.seq ?? chunkEnd + 1) - next
            shared.checked.add(checkedNow, ordering: .relaxed)
            if let outcome {
                shared.report(outcome)
                return
            }
            next = chunkEnd + 1
            progress?(shared.checked.load(ordering: .relaxed))
        }
    }

    /// Checks `range` inside one transaction; returns the first bad record, if any.
    private func verifyChunk(
        _ range: ClosedRange<UInt64>,
        prev: inout [UInt8]?,
        decoder: RecordDecoder,
        hasher: ChainHasher,
        txn: LMDB.Transaction,
        handles: Handles
    ) throws -> BadRecord? {
        if prev == nil, range.lowerBound == 1 {
            prev = Chain.genesisHash
        } else if prev == nil {
            let before = range.lowerBound - 1
            guard let value = try txn.value(handles.log, at: RecordFormat.key(before)) else {
                return BadRecord(seq: before, reason: "the log has no record at seq \(before)")
            }
            switch RecordFormat.parse(value) {
            case .success(let parts): prev = Array(parts.hash)
            case .failure(let damage): return BadRecord(seq: before, reason: damage.reason)
            }
        }
        guard var prevHash = prev else { return nil }
        defer { prev = prevHash }
        let cursor = try txn.openCursor(handles.log)
        defer { cursor.close() }
        var entry = try cursor.seek(atLeast: RecordFormat.key(range.lowerBound))
        for seq in range {
            guard let current = entry, RecordFormat.seq(fromKey: current.key) == seq else {
                return BadRecord(seq: seq, reason: "the log has no record at seq \(seq)")
            }
            let parts: RecordFormat.Parts
            switch RecordFormat.parse(current.value) {
            case .success(let parsed): parts = parsed
            case .failure(let damage): return BadRecord(seq: seq, reason: damage.reason)
            }
            let body: UnsafeRawBufferPointer
            do {
                body = try decoder.body(
                    of: parts,
                    dictionaries: dictionaries,
                    compressionLevel: options.compressionLevel,
                    txn: txn,
                    meta: handles.meta
                )
            } catch let damage as RecordDamage {
                return BadRecord(seq: seq, reason: damage.reason)
            }
            let check = prevHash.withUnsafeBytes { prevBytes in
                Result { () throws(JSONMembers.Malformed) in
                    try hasher.hash(prevHash: prevBytes, body: body, validatingBody: false)
                }
            }
            switch check {
            case .failure(let malformed):
                return BadRecord(
                    seq: seq,
                    reason: "the body is not a canonical JSON object: \(malformed.reason) at byte \(malformed.offset)"
                )
            case .success(let digest) where !digest.withUnsafeBytes({ $0.elementsEqual(parts.hash) }):
                return BadRecord(
                    seq: seq,
                    reason: "stored hash \(Chain.hex(parts.hash)) differs from the recomputed \(Chain.hex(digest))"
                )
            case .success:
                break
            }
            prevHash.withUnsafeMutableBytes { $0.copyMemory(from: parts.hash) }
            if seq < range.upperBound { entry = try cursor.next() }
        }
        return nil
    }
}
