import ArgumentParser
import RefLedgerCore
import RefLedgerServer
import RefLedgerStore

/// `refledger digest --data DIR` or `refledger digest --socket PATH`
struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print {\"seq\": N, \"hash\": \"…\"} of the log head, to record elsewhere."
    )

    @Option(
        name: .customLong("data"),
        help: ArgumentHelp("Read this data directory (default ./data).", valueName: "DIR")
    )
    var directory: String?

    @Option(help: ArgumentHelp("Ask the daemon listening on this socket.", valueName: "PATH"))
    var socket: String?

    func validate() throws {
        if directory != nil && socket != nil { throw ValidationError("Give --data or --socket, not both.") }
    }

    func run() throws {
        let seq: Int64
        let hash: String
        if let socket {
            let body = try SocketClient.getJSON(socket: socket, path: "/v1/digest")
            guard case .object(let object)? = try? JSONParser.parseAnswer(body),
                let number = object["seq"]?.integerValue,
                let text = object["hash"]?.stringValue
            else { throw CommandFailure("the daemon's digest is malformed: \(String(decoding: body, as: UTF8.self))") }
            (seq, hash) = (number, text)
        } else {
            let log = try EventLog.open(directory: directory ?? "./data", readOnly: true)
            let head = try log.head()
            (seq, hash) = (Int64(head.seq), head.hashHex)
        }
        let body = JSONObject([("seq", .integer(seq)), ("hash", .string(hash))])
        // The HTTP body of `GET /v1/digest`, member order included.
        print(String(decoding: ResponseJSON.encode(.object(body)), as: UTF8.self))
    }
}
