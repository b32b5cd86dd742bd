import Foundation
import RefLedgerCore

/// Importing stored events (an export): each fact re-derived and checked against the line.
extension Importer {
    /// Imports stored events (an export): every fact is applied again with its stored
    /// `recorded_at`, and the fact, its decisions, its derived events, `prev` and `hash` must
    /// all equal the input's; the first difference stops the import.
    ///
    /// Lines are parsed (and their facts decoded, their canonical bodies written) a run of
    /// ``runLength`` lines at a time on every core, one run ahead of the checks, which go line
    /// by line in order; so a difference is reported once the run after its line has been read
    /// (or the input has ended). Each full batch is written while the lines after it are
    /// checked: `progress` hears of it when its write starts, and a batch that fails to be
    /// written is reported rather than any difference found after it.
    public func importStored(
        from lines: inout Lines,
        into log: EventLog,
        progress: (Int) -> Void = { _ in }
    ) throws -> Summary {
        var summary = Summary()
        var replay = LedgerReplay(ledger: try LedgerReplay.restore(log).ledger)
        var prevHash = try log.head().hash
        var expected: [StoredEvent] = []  // derived events the last fact re-derived, still to come
        var batch: [EventLog.Entry] = []
        // A full batch is written on another thread while the lines after it are checked; the
        // next waits for it (and throws what it threw).
        let appendQueue = DispatchQueue(label: "refledger.import-append")
        var appending: Ahead<Result<Void, any Error>>?
        defer { _ = appending?.wait() }
        func waitForAppend() throws {
            guard let running = appending else { return }
            appending = nil
            try running.wait().get()
        }
        func flushInBackground() throws {
            try waitForAppend()
            let full = batch
            batch = []
            batch.reserveCapacity(batchEvents)
            appending = Ahead(after: appendQueue) { Result { _ = try log.append(full) } }
        }
        func flush() throws {
            try waitForAppend()
            guard !batch.isEmpty else { return }
            _ = try log.append(batch)
            batch.removeAll(keepingCapacity: true)
        }
        var lastLine = 0
        let maxLineBytes = lines.maxLineBytes
        func check(_ prepared: PreparedStoredLine) throws {
            let number = prepared.number
            lastLine = number
            let line: PreparedStoredLine.Parsed
            switch prepared.content {
            case .blank: return
            case .tooLong: throw Mismatch(line: number, message: "line is over \(maxLineBytes) bytes")
            case .parsed(let result): line = try result.get()
            }
            summary.lines += 1
            let stored = line.stored
            let rederived: StoredEvent
            if let decoded = line.decoded {
                guard expected.isEmpty else {
                    throw Mismatch(
                        line: number,
                        message: "expected derived event \(expected[0].id) before \(stored.id)"
                    )
                }
                let step: LedgerReplay.Step
                do {
                    step = try replay.apply(stored, decoded: decoded)
                } catch {
                    throw Mismatch(line: number, message: "fact \(stored.id) at seq \(stored.seq) is refused: \(error)")
                }
                rederived = step.rederived[0]
                expected = Array(step.rederived.dropFirst())
                summary.created += 1
            } else {
                guard !expected.isEmpty else {
                    throw Mismatch(line: number, message: "derived event \(stored.id) was not derived by its cause")
                }
                rederived = expected.removeFirst()
            }
            let body = rederived.canonicalBody()
            guard body == line.body else {
                throw Mismatch(
                    line: number,
                    message: "seq \(stored.seq) differs from what the ledger derives: stored "
                        + String(decoding: line.body, as: UTF8.self) + ", derived "
                        + String(decoding: body, as: UTF8.self)
                )
            }
            guard line.claimedPrev == prevHash else {
                throw Mismatch(line: number, message: "seq \(stored.seq): prev does not match the previous hash")
            }
            let hash = try Chain.hash(prevHash: prevHash, bodyWithoutPrevAndHash: body)
            guard hash == line.claimedHash else {
                throw Mismatch(line: number, message: "seq \(stored.seq): hash does not match its content")
            }
            prevHash = hash
            batch.append(EventLog.Entry(id: stored.id, seq: stored.seq, body: body))
            summary.events += 1
            if batch.count >= batchEvents {
                try flushInBackground()
                progress(summary.lines)
            }
        }
        // A run is read, then prepared on other threads while the run before it is checked. A
        // failure to read is thrown once the lines before it are checked.
        func checkAll() throws {
            var pending: Ahead<[PreparedStoredLine]>?
            // A run prepared ahead of a line that failed is waited for, not left running.
            defer { _ = pending?.wait() }
            var readFailure: (any Error)?
            repeat {
                var run: [(number: Int, line: LineReader.Line)] = []
                do {
                    while run.count < Self.runLength, let next = try lines.next() { run.append(next) }
                } catch {
                    readFailure = error
                }
                let ahead =
                    run.isEmpty
                    ? nil
                    : Ahead(on: .ownQueue) { [run] in
                        Parallel.map(run.count) { PreparedStoredLine(number: run[$0].number, line: run[$0].line) }
                    }
                let previous = pending
                pending = ahead
                if let previous { for line in previous.wait() { try check(line) } }
            } while pending != nil && readFailure == nil
            if let readFailure {
                let last = pending
                pending = nil
                if let last { for line in last.wait() { try check(line) } }
                throw readFailure
            }
            guard expected.isEmpty else {
                throw Mismatch(line: lastLine, message: "the input ends before derived event \(expected[0].id)")
            }
        }
        do {
            try checkAll()
        } catch {
            // A batch that failed to be written came before the line that failed here.
            try waitForAppend()
            throw error
        }
        try finish(&summary, ledger: replay.ledger, log: log, lastCommit: flush)
        return summary
    }

    /// A line of stored events, parsed ahead of ``importStored(from:into:progress:)``'s checks.
    struct PreparedStoredLine: Sendable {
        /// A stored event parsed: its claimed `prev` and `hash`, its canonical body (without
        /// them), and for a fact the fact and `recorded_at` decoded again.
        struct Parsed: Sendable {
            var stored: StoredEvent
            var claimedPrev: [UInt8]
            var claimedHash: [UInt8]
            var body: [UInt8]
            var decoded: LedgerReplay.Decoded?
        }

        enum Content: Sendable {
            case blank
            case tooLong
            /// Or why the line is no stored event.
            case parsed(Result<Parsed, any Error>)
        }

        var number: Int
        var content: Content

        init(number: Int, line: LineReader.Line) {
            self.number = number
            guard case .complete(let bytes) = line else {
                content = .tooLong
                return
            }
            if NDJSONLine.isBlank(bytes) {
                content = .blank
                return
            }
            content = .parsed(
                Result {
                    let (stored, prev, hash) = try Importer.parseStored(bytes, line: number)
                    return Parsed(
                        stored: stored,
                        claimedPrev: prev,
                        claimedHash: hash,
                        body: stored.canonicalBody(),
                        decoded: LedgerReplay.decodedFact(of: stored)
                    )
                }
            )
        }
    }

    fileprivate static func parseStored(_ bytes: [UInt8], line: Int) throws -> (StoredEvent, [UInt8], [UInt8]) {
        guard case .object(let object)? = try? JSONParser.parse(bytes),
            let prev = object["prev"]?.stringValue.flatMap(Chain.bytes(fromHex:)),
            let hash = object["hash"]?.stringValue.flatMap(Chain.bytes(fromHex:)),
            object["seq"]?.integerValue != nil
        else {
            throw Mismatch(line: line, message: "not a stored event (JSON object with seq, prev and hash)")
        }
        return (try StoredEvent(parsing: bytes), prev, hash)
    }
}
