import Hummingbird
import NIOCore
import RefLedgerCore
import RefLedgerStore

/// `POST /v1/events`: one fact (`application/json`, or any type but NDJSON) or an NDJSON batch.
extension Routes {
    func postEvents(_ request: Request) async -> Response {
        let contentType = request.headers[.contentType] ?? ""
        let media = contentType.split(separator: ";").first.map { $0.trimmingSpaces.lowercased() } ?? ""
        if media == "application/x-ndjson" || media == "application/ndjson" { return await postBatch(request) }
        return await postSingle(request)
    }

    /// One fact: 201 and its result when created, 200 and the first result when a duplicate,
    /// else the error with its §6 status.
    private func postSingle(_ request: Request) async -> Response {
        let body: ByteBuffer
        var tooLarge: LedgerError { LedgerError(.tooLarge, "a fact may be at most \(FactDecoder.maxFactBytes) bytes") }
        do {
            // A final newline (`\n` or `\r\n`) is not counted (SPEC §2).
            body = try await request.body.collect(upTo: FactDecoder.maxFactBytes + 2)
        } catch is NIOTooManyBytesError {
            return rejected(tooLarge)
        } catch {
            return rejected(LedgerError(.badJSON, "the body could not be read: \(error)"))
        }
        let counted = Self.countedBytes(body)
        guard counted <= FactDecoder.maxFactBytes else { return rejected(tooLarge) }
        let now = Timestamp.now()
        let decoded = body.withUnsafeReadableBytes { bytes in
            Result { () throws(LedgerError) in
                try FactDecoder.decode(UnsafeRawBufferPointer(rebasing: bytes[..<counted]), now: now)
            }
        }
        let fact: Fact
        switch decoded {
        case .success(let value): fact = value
        case .failure(let error): return rejected(error)
        }
        guard let outcome = await state.writer.submit([fact])?.first else { return Self.overloaded() }
        do {
            switch outcome {
            case .created(let events, let committed):
                return Self.json(.created, try ResultJSON.created(events: events, committed: committed))
            case .duplicate(let seq):
                let log = state.log
                return Self.json(
                    .ok,
                    try await state.readers.runIfActive { try ResultJSON.duplicate(seq: seq, log: log) }
                )
            case .rejected(let error):
                return rejected(error)
            }
        } catch {
            return Self.internalError(error)
        }
    }

    /// The bytes of a single fact's body that count toward its limit: all but a final
    /// newline (`\n`, or `\r\n`), as for an NDJSON line.
    static func countedBytes(_ body: ByteBuffer) -> Int {
        body.withUnsafeReadableBytes { bytes in
            guard bytes.last == 0x0A else { return bytes.count }
            return NDJSONLine.contentEnd(of: bytes[..<(bytes.count - 1)])
        }
    }

    private func rejected(_ error: LedgerError) -> Response {
        state.metrics.rejected(error.code)
        return Self.error(error)
    }

    /// An NDJSON batch: 200 and one result line per non-blank line, in order. The lines go to
    /// the writer in chunks; the first chunk is admitted against the queue bound (else 503 for
    /// the whole request), later ones follow it whatever the queue holds, one at a time.
    private func postBatch(_ request: Request) async -> Response {
        let maxBytes = state.configuration.maxBatchBytes
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            return rejected(LedgerError(.tooLarge, "an NDJSON batch may be at most \(maxBytes) bytes"))
        } catch {
            return rejected(LedgerError(.badJSON, "the body could not be read: \(error)"))
        }
        let lines = NDJSONLines.ranges(in: body)
        let chunkSize = max(1, state.configuration.maxLinesPerChunk)
        let chunks = stride(from: 0, to: lines.count, by: chunkSize).map {
            lines[$0..<min($0 + chunkSize, lines.count)]
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        guard let firstChunk = chunks.first else {
            return Response(status: .ok, headers: headers, body: ResponseBody())
        }
        guard let first = await judge(firstChunk, of: body, beyondLimit: false) else { return Self.overloaded() }
        let rest = chunks.dropFirst()
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: first))
                for chunk in rest {
                    let lines = await judge(chunk, of: body, beyondLimit: true) ?? overloadedLines(chunk.count)
                    try await writer.write(ByteBuffer(bytes: lines))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// Decodes the lines, hands the facts to the writer, and returns the result lines; `nil`
    /// when the writer did not admit them.
    private func judge(_ lines: ArraySlice<Range<Int>>, of body: ByteBuffer, beyondLimit: Bool) async -> [UInt8]? {
        let now = Timestamp.now()
        // The facts that decoded, and for each line the error that it had instead (kept apart:
        // a fact moved out of a `Result` would be copied, every field retained again).
        var facts: [Fact] = []
        facts.reserveCapacity(lines.count)
        var failures: [LedgerError?] = []
        failures.reserveCapacity(lines.count)
        body.withUnsafeReadableBytes { bytes in
            for range in lines {
                do throws(LedgerError) {
                    facts.append(try FactDecoder.decode(UnsafeRawBufferPointer(rebasing: bytes[range]), now: now))
                    failures.append(nil)
                } catch {
                    failures.append(error)
                }
            }
        }
        guard let outcomes = await state.writer.submit(facts, beyondLimit: beyondLimit) else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(lines.count * 96)
        var next = outcomes.makeIterator()
        for failure in failures {
            switch failure {
            case .some(let error): line(for: .rejected(error), into: &output)
            case .none:
                // The writer answers every fact it was given, in order.
                let outcome =
                    next.next() ?? .rejected(LedgerError(.storageFull, "the writer gave no answer for this fact"))
                line(for: outcome, into: &output)
            }
            output.append(0x0A)
        }
        return output
    }

    private func line(for outcome: WriteOutcome, into output: inout [UInt8]) {
        do {
            switch outcome {
            case .created(let events, let committed):
                try ResultJSON.created(events: events, committed: committed, into: &output)
            case .duplicate(let seq): output.append(contentsOf: try ResultJSON.duplicate(seq: seq, log: state.log))
            case .rejected(let error):
                state.metrics.rejected(error.code)
                output.append(contentsOf: ResultJSON.errorLine(error))
            }
        } catch {
            output.append(
                contentsOf: ResultJSON.errorLine(
                    LedgerError(.storageFull, "the result could not be read back: \(error)")
                )
            )
        }
    }

    private func overloadedLines(_ count: Int) -> [UInt8] {
        let line = ResultJSON.errorLine(LedgerError(.overloaded, "the daemon is shutting down; retry later")) + [0x0A]
        return Array((0..<count).map { _ in line }.joined())
    }
}

/// The lines of an NDJSON body.
enum NDJSONLines {
    /// The byte ranges of the non-blank lines of `body`, each without its `\n` (and without a
    /// `\r` before it, so CRLF files work); blank lines (``NDJSONLine/isBlank(_:)``) are left out.
    static func ranges(in body: ByteBuffer) -> [Range<Int>] {
        body.withUnsafeReadableBytes { bytes in
            var ranges: [Range<Int>] = []
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x0A { end += 1 }
                let contentEnd = NDJSONLine.contentEnd(of: bytes[start..<end])
                if !NDJSONLine.isBlank(bytes[start..<contentEnd]) { ranges.append(start..<contentEnd) }
                start = end + 1
            }
            return ranges
        }
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
