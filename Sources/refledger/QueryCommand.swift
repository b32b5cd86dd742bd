import ArgumentParser
import Foundation
import RefLedgerCore
import RefLedgerServer
import RefLedgerStore

/// `refledger query participant|metrics|leaderboard …`
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Query projections: a participant's balance, a program's metrics, a leaderboard.",
        subcommands: [ParticipantQuery.self, MetricsQuery.self, LeaderboardQuery.self]
    )
}

/// Output format of a query.
enum QueryFormat: String, ExpressibleByArgument, CaseIterable {
    case json, csv, table
}

/// Options every query takes.
struct QueryOptions: ParsableArguments {
    @Option(
        name: .customLong("data"),
        help: ArgumentHelp("Read this data directory itself (default ./data).", valueName: "DIR")
    )
    var directory: String?

    @Option(
        help: ArgumentHelp(
            "Ask the daemon listening on this socket instead of reading a data directory.",
            valueName: "PATH"
        )
    )
    var socket: String?

    @Option(help: ArgumentHelp("Answer as of this seq (default: the head).", valueName: "SEQ"))
    var asOf: String?

    @Option(help: "json (exactly the HTTP body), csv or table.")
    var format: QueryFormat = .json

    func validate() throws {
        if directory != nil && socket != nil { throw ValidationError("Give --data or --socket, not both.") }
    }

    /// Runs `kind` with `parameters` against the daemon (`--socket`) or the data directory and
    /// prints the answer; both print the same bytes for the same log.
    func run(_ kind: Query.Kind, _ parameters: [(String, String?)]) throws {
        var pairs = parameters.compactMap { name, value in value.map { (name, $0) } }
        if let asOf { pairs.append(("as_of", asOf)) }
        if let socket {
            let body = try SocketClient.getJSON(socket: socket, path: Self.path(kind), parameters: pairs)
            if format == .json {
                print(String(decoding: body, as: UTF8.self))
                return
            }
            guard case .object(let object)? = try? JSONParser.parseAnswer(body) else {
                throw CommandFailure("the daemon's answer is not a JSON object")
            }
            print(QueryRenderer.render(object, kind: kind, format: format), terminator: "")
            return
        }
        do {
            let query = try Query(kind: kind, parameters: pairs)
            let log = try EventLog.open(directory: directory ?? "./data", readOnly: true)
            let head = try log.head().seq
            let seq = min(query.asOf ?? head, head)
            // The ledger grows on the main thread's heap: mapped in ahead on the other core.
            let prefaulter = HeapPrefaulter.forMainThread()
            let (ledger, report) = try LedgerReplay.restore(log, through: seq)
            prefaulter?.stop()
            for skipped in report.skipped {
                Terminal.error("warning: snapshot at seq \(skipped.seq) ignored: \(skipped.reason)")
            }
            let body = try query.answer(from: ledger, seq: seq, now: Timestamp.now())
            print(QueryRenderer.render(body, kind: kind, format: format), terminator: "")
        } catch let error as LedgerError {
            throw CommandFailure("\(error.code.rawValue): \(error.message)")
        }
    }

    /// The HTTP path of a query (SPEC §6).
    static func path(_ kind: Query.Kind) -> String {
        let program = "/v1/programs/" + SocketClient.segment(kind.program)
        switch kind {
        case .participant(_, let id): return program + "/participants/" + SocketClient.segment(id)
        case .metrics: return program + "/metrics"
        case .leaderboard: return program + "/leaderboard"
        }
    }
}

struct ParticipantQuery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "participant",
        abstract: "A participant's code, referrer, referees and balance."
    )

    @Argument var program: String
    @Argument var id: String
    @Option(help: ArgumentHelp("Judge holds at this RFC 3339 time (default: now).", valueName: "TIME"))
    var at: String?
    @OptionGroup var options: QueryOptions

    func run() throws { try options.run(.participant(program: program, id: id), [("at", at)]) }
}

struct MetricsQuery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "K-factor, funnel, revenue, cost, ROI and time to convert of a cohort."
    )

    @Argument var program: String
    @Option(help: ArgumentHelp("Cohort: signups at or after this RFC 3339 time.", valueName: "TIME"))
    var from: String?
    @Option(help: ArgumentHelp("Cohort: signups before this RFC 3339 time.", valueName: "TIME"))
    var to: String?
    @OptionGroup var options: QueryOptions

    func run() throws { try options.run(.metrics(program: program), [("from", from), ("to", to)]) }
}

struct LeaderboardQuery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leaderboard",
        abstract: "Top participants by referees or by rewards."
    )

    @Argument var program: String
    @Option(help: "referees or rewards.") var by: String = "referees"
    @Option(help: "Rows, 1–1000.") var limit: String = "10"
    @OptionGroup var options: QueryOptions

    func run() throws { try options.run(.leaderboard(program: program), [("by", by), ("limit", limit)]) }
}
