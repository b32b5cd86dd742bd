import Foundation
public import RefLedgerCore

/// Builds a data directory from NDJSON: facts judged one by one as the daemon would, or
/// stored events (an export) re-derived and checked against what they claim.
public struct Importer {
    /// A line that was refused (facts) — reported and skipped.
    public struct Rejection: Sendable {
        public var line: Int
        public var error: LedgerError
    }

    /// What an import did.
    public struct Summary: Sendable {
        public var lines = 0
        public var created = 0
        public var duplicates = 0
        public var rejected = 0
        public var events: UInt64 = 0
        public var head = EventLog.Head.empty
        /// The snapshot written at the end (``Importer/writesSnapshot``), if any.
        public var snapshot: EventLog.SnapshotWrite?
        /// Why no snapshot could be written at the end; the import itself stands.
        public var snapshotFailure: String?
    }

    /// Why an import of stored events stopped: the first line that differs from what the
    /// ledger re-derives (or that is not a stored event at all).
    public struct Mismatch: Error, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Events staged per transaction.
    public var batchEvents = 10_000
    /// Whether an import that stored events ends with a snapshot of the ledger, so that a
    /// daemon started on the data directory does not replay the whole log.
    public var writesSnapshot = true

    public init() {}

    /// Whether the first non-blank line of an input is a stored event rather than a fact: it
    /// has the members only the log writes, each of its form — an integer `seq`, `prev` and
    /// `hash` in hex of 32 bytes (as the stored-event reader takes them), a `recorded_at`
    /// string. A fact line carrying some of them (a client trying to set them) is judged as a
    /// fact: `unknown_field`.
    public static func isStoredEvent(_ line: [UInt8]) -> Bool {
        guard case .object(let object)? = try? JSONParser.parse(line) else { return false }
        func isHash(_ value: JSONValue?) -> Bool {
            value?.stringValue.flatMap(Chain.bytes(fromHex:))?.count == Chain.hashByteCount
        }
        return object["seq"]?.integerValue != nil && isHash(object["prev"]) && isHash(object["hash"])
            && object["recorded_at"]?.stringValue != nil
    }

    /// Imports `reader` into `log`: stored events if its first non-blank line is one, else
    /// facts. Returns the summary and whether the input was stored events.
    ///
    /// Run on the process's main thread (as `refledger import` does), the memory its ledger
    /// grows into is pre-faulted on another core meanwhile (``HeapPrefaulter``).
    public func run(
        from reader: LineReader,
        into log: EventLog,
        onRejection: (Rejection) -> Void,
        progress: (Int) -> Void = { _ in }
    ) throws -> (summary: Summary, storedEvents: Bool) {
        let prefaulter = HeapPrefaulter.forMainThread()
        defer { prefaulter?.stop() }
        var lines = Lines(reader: reader)
        let first = try lines.peekFirstContent()
        if let first, Self.isStoredEvent(first) {
            return (try importStored(from: &lines, into: log, progress: progress), true)
        }
        let writer = try LedgerWriter(log: log)
        return (try importFacts(from: &lines, into: writer, onRejection: onRejection, progress: progress), false)
    }

    /// Lines of the input with their numbers; the first content line can be looked at first.
    public struct Lines {
        let reader: LineReader
        private var pushedBack: (Int, LineReader.Line)?

        public init(reader: LineReader) { self.reader = reader }

        var maxLineBytes: Int { reader.maxLineBytes }

        mutating func next() throws -> (number: Int, line: LineReader.Line)? {
            var bytes: [UInt8] = []
            guard let (number, line) = try next(appendingTo: &bytes) else { return nil }
            switch line {
            case .complete: return (number, .complete(bytes))
            case .tooLong(let byteCount): return (number, .tooLong(byteCount: byteCount))
            }
        }

        /// The next line, its bytes appended to `buffer` (see ``LineReader/appendNextLine(to:)``).
        mutating func next(appendingTo buffer: inout [UInt8]) throws -> (number: Int, line: LineReader.AppendedLine)? {
            if let (number, line) = pushedBack {
                pushedBack = nil
                switch line {
                case .complete(let bytes):
                    buffer.append(contentsOf: bytes)
                    return (number, .complete(byteCount: bytes.count))
                case .tooLong(let byteCount): return (number, .tooLong(byteCount: byteCount))
                }
            }
            guard let line = try reader.appendNextLine(to: &buffer) else { return nil }
            return (reader.lineNumber, line)
        }

        /// The first line that is not blank, left to be read again.
        mutating func peekFirstContent() throws -> [UInt8]? {
            while let (number, line) = try next() {
                if case .complete(let bytes) = line, NDJSONLine.isBlank(bytes) { continue }
                pushedBack = (number, line)
                if case .complete(let bytes) = line { return bytes }
                return nil
            }
            return nil
        }
    }

    /// Imports facts: each line decoded and applied in order; rejected lines are reported to
    /// `onRejection` and store nothing.
    public func importFacts(
        from lines: inout Lines,
        into writer: LedgerWriter,
        onRejection: (Rejection) -> Void,
        progress: (Int) -> Void = { _ in }
    ) throws -> Summary {
        var summary = Summary()
        // Lines are decoded a run at a time, on every core and one run ahead of judging, so
        // that one read transaction finds which of the run's ids are already stored; then
        // judged one by one, in order.
        var run = Run()
        var decoding: (run: Run, decoded: Ahead<[Result<Fact, LedgerError>]>)?
        func judge(_ lines: [RunLine], _ decodedRun: consuming [Result<Fact, LedgerError>]) throws {
            try writer.prefetch(ids: decodedRun.compactMap(\.factID))
            // Each fact is swapped out of the run (a move), so that none is copied on its way to
            // the writer: a copy retains every field, and the run's copy is released after. The
            // next fact is swapped out one step ahead, for the writer to prefetch its state.
            var upcoming = Self.takenOut
            if !lines.isEmpty { swap(&upcoming, &decodedRun[0]) }
            for index in lines.indices {
                let (number, recordedAt) = (lines[index].number, lines[index].recordedAt)
                let outcome: LedgerWriter.Outcome
                var decoded = Self.takenOut
                swap(&decoded, &upcoming)
                if index + 1 < lines.count {
                    swap(&upcoming, &decodedRun[index + 1])
                    if case .success(let next) = upcoming { writer.prefetchState(for: next) }
                }
                switch consume decoded {
                case .success(let fact): outcome = writer.submit(fact, recordedAt: recordedAt)
                case .failure(let error): outcome = .rejected(error)
                }
                switch outcome {
                case .created(let events):
                    summary.created += 1
                    summary.events += UInt64(events.count)
                case .duplicate: summary.duplicates += 1
                case .rejected(let error):
                    summary.rejected += 1
                    onRejection(Rejection(line: number, error: error))
                }
                if writer.stagedCount >= batchEvents {
                    // Written on other threads while the next facts are judged.
                    try writer.commitInBackground()
                    progress(summary.lines)
                }
            }
        }
        /// Starts decoding the run read so far, and judges the run before it meanwhile.
        func startRun() throws {
            let lines = run
            run = Run()
            let ahead = Ahead(on: .ownQueue) { Self.decode(lines) }
            if let previous = decoding { try judge(previous.run.lines, previous.decoded.wait()) }
            decoding = (lines, ahead)
        }
        while true {
            let start = run.bytes.count
            guard let (number, line) = try lines.next(appendingTo: &run.bytes) else { break }
            let now = writer.clock()
            switch line {
            case .tooLong(let count):
                summary.lines += 1
                run.lines.append(RunLine(number: number, content: .tooLong(byteCount: count), recordedAt: now))
            case .complete:
                if NDJSONLine.isBlank(run.bytes[start...]) {
                    run.bytes.removeSubrange(start...)
                    continue
                }
                summary.lines += 1
                run.lines.append(RunLine(number: number, content: .bytes(start..<run.bytes.count), recordedAt: now))
            }
            if run.lines.count >= Self.runLength { try startRun() }
        }
        if !run.lines.isEmpty { try startRun() }
        if let last = decoding { try judge(last.run.lines, last.decoded.wait()) }
        try finish(&summary, ledger: writer.ledger, log: writer.log) { _ = try writer.commit() }
        return summary
    }

    /// Ends an import: runs its last commit and notes the head; then, when asked for and
    /// something was stored, stores a snapshot of `ledger` (the final state), encoded on other
    /// threads while that commit and any batches still under way are written. A snapshot that
    /// cannot be written is noted in the summary; the import itself stands.
    func finish(
        _ summary: inout Summary,
        ledger: Ledger,
        log: EventLog,
        lastCommit: () throws -> Void
    ) throws {
        let snapshot =
            writesSnapshot && summary.events > 0
            ? Ahead(on: .ownQueue) { Result { try log.prepareSnapshot(of: ledger, fork: Ledger.onTwoThreads) } }
            : nil
        try lastCommit()
        summary.head = try log.head()
        guard let snapshot else { return }
        do {
            summary.snapshot = try log.storeSnapshot(snapshot.wait().get())
        } catch {
            summary.snapshotFailure = "\(error)"
        }
    }

    /// Lines decoded ahead of judging.
    static let runLength = 4096

    /// What is left in a decoded run where a fact was taken out.
    private static let takenOut = Result<Fact, LedgerError>.failure(LedgerError(.badJSON, "taken out for judging"))

    /// Lines read for decoding together: their bytes back to back in one buffer. One array per
    /// line, allocated by the reading thread and freed one by one after judging, took ~13% of
    /// the judging thread's time; the lines here hold nothing to release.
    struct Run: Sendable {
        var bytes: [UInt8] = []
        var lines: [RunLine] = []

        init() {
            lines.reserveCapacity(Importer.runLength)
        }
    }

    /// A line of a run: its number, where its bytes are in the run (or why it is refused
    /// unread), when it was read.
    struct RunLine: Sendable {
        enum Content: Sendable {
            case bytes(Range<Int>)
            case tooLong(byteCount: Int)
        }

        var number: Int
        var content: Content
        var recordedAt: Timestamp
    }

    /// Decodes a run's lines, on every core.
    private static func decode(_ run: Run) -> [Result<Fact, LedgerError>] {
        run.bytes.withUnsafeBytes { bytes in
            Parallel.map(run.lines.count) { index in
                let line = run.lines[index]
                switch line.content {
                case .tooLong(let count): return .failure(FactDecoder.tooLarge(byteCount: count))
                case .bytes(let range):
                    return Result { () throws(LedgerError) in
                        try FactDecoder.decode(UnsafeRawBufferPointer(rebasing: bytes[range]), now: line.recordedAt)
                    }
                }
            }
        }
    }
}

extension Result where Success == Fact {
    /// The fact's id, if it decoded: read in place, without copying the fact.
    fileprivate var factID: String? {
        switch self {
        case .success(let fact): fact.id
        case .failure: nil
        }
    }
}
