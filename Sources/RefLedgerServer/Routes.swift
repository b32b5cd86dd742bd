import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import RefLedgerCore
import RefLedgerStore

/// What every route reads: the writer, the log, the follow hub, the metrics, the bounds.
struct DaemonState: Sendable {
    let writer: WriterThread
    let log: EventLog
    let hub: CommitHub
    let metrics: DaemonMetrics
    let configuration: DaemonConfiguration
    /// Runs blocking reads (scans, replays, query answers) off the event loops and off the
    /// Swift concurrency pool.
    let readers: NIOThreadPool
    /// The ledgers of the last queries below the head.
    let asOfLedgers: AsOfLedgers
}

/// The daemon's HTTP interface (SPEC §6): one small dispatch on method and path.
///
/// Every error is `{"error":{"code","message","field"}}` with the status of the §6 table;
/// anything that is not a route is 404 `not_found`.
struct Routes: HTTPResponder {
    typealias Context = BasicRequestContext

    let state: DaemonState

    func respond(to request: Request, context: Context) async throws -> Response {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            .map { QueryString.decode($0) ?? "" }
        switch (request.method, segments) {
        case (.post, ["v1", "events"]): return await postEvents(request)
        case (.get, ["v1", "events"]): return await getEvents(request)
        case (.get, ["v1", "digest"]): return digest()
        case (.get, ["v1", "health"]): return health()
        case (.get, ["metrics"]):
            return Self.bytes(.ok, state.metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case (.get, let path)
        where path.count == 5 && path[0] == "v1" && path[1] == "programs" && path[3] == "participants":
            return await query(.participant(program: path[2], id: path[4]), request)
        case (.get, let path) where path.count == 4 && path[0] == "v1" && path[1] == "programs" && path[3] == "metrics":
            return await query(.metrics(program: path[2]), request)
        case (.get, let path)
        where path.count == 4 && path[0] == "v1" && path[1] == "programs" && path[3] == "leaderboard":
            return await query(.leaderboard(program: path[2]), request)
        default:
            return Self.error(LedgerError(.notFound, "no route \(request.method.rawValue) \(request.uri.path)"))
        }
    }

    private func digest() -> Response {
        do {
            let head = try state.log.head()
            let body = JSONObject([("seq", .integer(Int64(head.seq))), ("hash", .string(head.hashHex))])
            return Self.json(.ok, ResponseJSON.encode(.object(body)))
        } catch {
            return Self.internalError(error)
        }
    }

    private func health() -> Response {
        let body = JSONObject([("status", .string("ok")), ("seq", .integer(Int64(state.writer.committedHead)))])
        return Self.json(.ok, ResponseJSON.encode(.object(body)))
    }

    /// A projection query: at the head on the writer thread, between commits (the committed
    /// state, no copy of it); below the head on a reader thread, from a ledger kept from
    /// earlier such queries when one is at `as_of` or can be folded on to it, else from the
    /// newest snapshot at or before `as_of`, and a replay of the log up to `as_of`
    /// (``AsOfLedgers``).
    private func query(_ kind: Query.Kind, _ request: Request) async -> Response {
        let query: Query
        do {
            query = try Query(kind: kind, parameters: QueryString.parse(request.uri.query))
        } catch {
            return Self.error(error)
        }
        let atHead = await state.writer.read { ledger, seq -> QueryAnswer in
            if let asOf = query.asOf, asOf < seq { return .replay(asOf) }
            do throws(LedgerError) {
                return .answered(try query.answer(from: ledger, seq: seq, now: Timestamp.now()))
            } catch {
                return .failed(error)
            }
        }
        let answer: QueryAnswer
        switch atHead {
        case nil: return Self.overloaded("the daemon is shutting down")
        case .replay(let asOf)?:
            let log = state.log
            let ledgers = state.asOfLedgers
            let metrics = state.metrics
            do {
                answer = try await state.readers.runIfActive { () -> QueryAnswer in
                    let (ledger, report) = try ledgers.ledger(of: log, asOf: asOf)
                    metrics.asOfQuery(report)
                    do throws(LedgerError) {
                        return .answered(try query.answer(from: ledger, seq: asOf, now: Timestamp.now()))
                    } catch {
                        return .failed(error)
                    }
                }
            } catch {
                return Self.internalError(error)
            }
        case let done?: answer = done
        }
        switch answer {
        case .answered(let body): return Self.json(.ok, ResponseJSON.encode(.object(body)))
        case .failed(let error): return Self.error(error)
        case .replay: return Self.internalError(StoreError(.invalidArgument, "a replay answered with a replay"))
        }
    }

    /// What a query came to.
    private enum QueryAnswer: Sendable {
        case answered(JSONObject)
        case failed(LedgerError)
        /// Below the head: replay the log through this seq.
        case replay(UInt64)
    }

    // MARK: - Answers

    static func bytes(_ status: HTTPResponse.Status, _ bytes: [UInt8], contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentLength] = String(bytes.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Self.bytes(status, bytes, contentType: "application/json")
    }

    /// `{"error":{…}}` with the status of the error's code.
    static func error(_ error: LedgerError) -> Response {
        var response = json(HTTPResponse.Status(code: error.code.httpStatus), ResultJSON.errorBody(error))
        if error.code == .overloaded { response.headers[.retryAfter] = "1" }
        return response
    }

    /// 503 `overloaded`.
    static func overloaded(_ why: String = "the write queue is full; retry later") -> Response {
        error(LedgerError(.overloaded, why))
    }

    /// A failure that no §6 code describes (a damaged log, a closed environment): 500.
    static func internalError(_ error: any Error) -> Response {
        if error is NIOThreadPoolError.ThreadPoolInactive { return overloaded("the daemon is shutting down") }
        let body = JSONObject([
            ("error", .object(JSONObject([("code", .string("internal")), ("message", .string("\(error)"))])))
        ])
        return json(.internalServerError, ResponseJSON.encode(.object(body)))
    }
}
