import Hummingbird
import NIOCore
import RefLedgerCore
import RefLedgerStore

/// `GET /v1/events?after=SEQ&limit=N[&follow=true]`: stored events as NDJSON.
///
/// Without `follow`, the events after `after` up to `limit` (default 1000, at most 100000)
/// and the head. With `follow=true`, the response stays open: first the events already
/// stored, then each commit's events as it lands, in seq order, without gaps or duplicates;
/// `limit` then counts only when given (the stream ends after that many events), and
/// shutdown ends the stream.
extension Routes {
    /// Events read from the log per step (and per read transaction).
    static let eventsPerRead: UInt64 = 4096

    func getEvents(_ request: Request) async -> Response {
        var after: UInt64 = 0
        var limit: UInt64?
        var follow = false
        for (name, value) in QueryString.parse(request.uri.query) {
            switch name {
            case "after":
                guard let number = Self.digits(value) else {
                    return Self.error(LedgerError(.badValue, "after must be an integer ≥ 0", field: "after"))
                }
                after = number
            case "limit":
                guard let number = Self.digits(value), (1...100_000).contains(number) else {
                    return Self.error(
                        LedgerError(.badValue, "limit must be an integer from 1 to 100000", field: "limit")
                    )
                }
                limit = number
            case "follow":
                guard value == "true" || value == "false" else {
                    return Self.error(LedgerError(.badValue, "follow must be true or false", field: "follow"))
                }
                follow = value == "true"
            default:
                continue
            }
        }
        return eventsResponse(after: after, limit: limit, follow: follow, request: request)
    }

    private func eventsResponse(after: UInt64, limit: UInt64?, follow: Bool, request: Request) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        // The first seq to send. After the largest seq it stays the largest, which no head
        // reaches: the answer is empty, a follow stream sends nothing.
        let first = after < .max ? after + 1 : .max
        if !follow {
            let (sum, overflow) = after.addingReportingOverflow(limit ?? 1000)
            let end = min(state.writer.committedHead, overflow ? .max : sum)
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    var next = first
                    while next <= end {
                        let chunk = try await read(from: next, through: min(end, next + Self.eventsPerRead - 1))
                        next += chunk.count
                        try await writer.write(chunk.bytes)
                    }
                    try await writer.finish(nil)
                }
            )
        }
        let subscription: (id: Int, heads: AsyncStream<UInt64>)
        switch state.hub.subscribe() {
        case .success(let value): subscription = value
        case .failure(.full): return Self.overloaded("too many follow streams are open; retry later")
        case .failure(.closed): return Self.overloaded("the daemon is shutting down")
        }
        let hub = state.hub
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                defer { hub.unsubscribe(subscription.id) }
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    try await streamFollowing(
                        from: first,
                        limit: limit ?? .max,
                        heads: subscription.heads,
                        writer: &writer
                    )
                }
                try await writer.finish(nil)
            }
        )
    }

    /// Streams events from seq `first` on as commits land, until `limit` events or the hub closes.
    private func streamFollowing(
        from first: UInt64,
        limit: UInt64,
        heads: AsyncStream<UInt64>,
        writer: inout any ResponseBodyWriter
    ) async throws {
        var iterator = heads.makeAsyncIterator()
        var next = first
        var remaining = limit
        while remaining > 0 {
            let head = state.writer.committedHead
            while next <= head, remaining > 0 {
                let last = min(head, next + min(Self.eventsPerRead, remaining) - 1)
                let chunk = try await read(from: next, through: last)
                next += chunk.count
                remaining -= chunk.count
                try await writer.write(chunk.bytes)
            }
            if remaining == 0 { break }
            guard await iterator.next() != nil else { break }
        }
    }

    /// Full stored events `from…through` as NDJSON, read on a reader thread.
    private func read(from: UInt64, through: UInt64) async throws -> (bytes: ByteBuffer, count: UInt64) {
        let log = state.log
        return try await state.readers.runIfActive {
            var buffer = ByteBuffer()
            var count: UInt64 = 0
            try log.scan(from: from, through: through) { record in
                buffer.writeBytes(try record.fullJSON())
                buffer.writeInteger(UInt8(0x0A))
                count += 1
            }
            guard count > 0 else { throw StoreError(.corrupted, "the log holds no event at seq \(from)") }
            return (buffer, count)
        }
    }

    /// A decimal integer of digits only; one too large for a seq is `UInt64.max` (an `after`
    /// beyond every seq, a `limit` out of range), as `as_of` reads it.
    static func digits(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return UInt64(text) ?? .max
    }
}
