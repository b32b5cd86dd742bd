import ArgumentParser
import RefLedgerCore
import RefLedgerStore

/// `refledger digest --data DIR`
struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print {\"seq\": N, \"hash\": \"…\"} of the log head, to record elsewhere."
    )

    @OptionGroup var data: DataOption

    func run() throws {
        let log = try EventLog.open(directory: data.directory, readOnly: true)
        let head = try log.head()
        let body = JSONObject([("seq", .integer(Int64(head.seq))), ("hash", .string(head.hashHex))])
        print(String(decoding: CanonicalJSON.encode(body), as: UTF8.self))
    }
}
