import Foundation
import RefLedgerStore
import RefLedgerTestSupport

/// Realistic canonical bodies (sorted keys, no whitespace), about 200–300 bytes each.
enum Bodies {
    static let programs = ["spring-promo", "refer-a-friend", "vip_2026"]
    static let channels = ["email", "sms", "link", "social", "other"]

    /// The body of event `seq`, varied by `generator`.
    static func body(seq: UInt64, using generator: inout SeededGenerator) -> [UInt8] {
        let program = programs[Int.random(in: 0..<programs.count, using: &generator)]
        let participant = "cust-\(Int.random(in: 10_000...99_999, using: &generator))"
        let millis = Int.random(in: 0...999, using: &generator)
        let time = "2026-11-22T\(10 + seq % 10):\(10 + seq % 50):\(10 + seq % 49).\(String(format: "%03d", millis))Z"
        let recorded =
            "2026-11-22T\(10 + seq % 10):\(10 + seq % 50):\(11 + seq % 48).\(String(format: "%03d", millis))Z"
        let text: String
        switch Int.random(in: 0..<4, using: &generator) {
        case 0:
            let amount = Int.random(in: 500...50_000, using: &generator)
            text =
                #"{"amount":\#(amount),"currency":"USD","id":"conv-\#(seq)","order":"ord-\#(seq)-\#(millis)","#
                + #""participant":"\#(participant)","program":"\#(program)","recorded_at":"\#(recorded)","seq":\#(seq),"#
                + #""time":"\#(time)","type":"conversion"}"#
        case 1:
            let channel = channels[Int.random(in: 0..<channels.count, using: &generator)]
            text =
                #"{"channel":"\#(channel)","id":"inv-\#(seq)","invitee":"h-\#(String(seq &* 2_654_435_761, radix: 16))","#
                + #""participant":"\#(participant)","program":"\#(program)","recorded_at":"\#(recorded)","seq":\#(seq),"#
                + #""time":"\#(time)","type":"invite"}"#
        case 2:
            text =
                #"{"attribution":"code","code":"C\#(seq)X","id":"sign-\#(seq)","participant":"\#(participant)","#
                + #""program":"\#(program)","recorded_at":"\#(recorded)","referrer":"cust-\#(seq % 997)","#
                + #""referrer_code":"R\#(seq % 997)Q","seq":\#(seq),"time":"\#(time)","type":"signup"}"#
        default:
            let amount = Int.random(in: 100...5_000, using: &generator)
            text =
                #"{"amount":\#(amount),"available_at":"\#(time)","cause":"conv-\#(seq - 1)","currency":"USD","#
                + #""id":"conv-\#(seq - 1)/1","order":"ord-\#(seq)","participant":"\#(participant)","#
                + #""program":"\#(program)","recorded_at":"\#(recorded)","role":"referrer","seq":\#(seq),"#
                + #""time":"\#(time)","type":"reward"}"#
        }
        return Array(text.utf8)
    }

    /// The id inside a body made by ``body(seq:using:)`` (its `"id"` member).
    static func id(of body: [UInt8]) -> String {
        let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        return object?["id"] as? String ?? ""
    }

    /// Entries for seqs `first ..< first + count`.
    static func entries(from first: UInt64, count: Int, using generator: inout SeededGenerator) -> [EventLog.Entry] {
        (0..<UInt64(count)).map { offset in
            let body = body(seq: first + offset, using: &generator)
            return EventLog.Entry(id: id(of: body), seq: first + offset, body: body)
        }
    }
}

/// Appends `total` generated events in batches of `batchSize`; returns every entry appended.
@discardableResult
func appendGenerated(
    to log: EventLog,
    total: Int,
    batchSize: Int,
    using generator: inout SeededGenerator
) throws -> [EventLog.Entry] {
    var appended: [EventLog.Entry] = []
    while appended.count < total {
        let first = try log.head().seq + 1
        let batch = Bodies.entries(from: first, count: min(batchSize, total - appended.count), using: &generator)
        _ = try log.append(batch)
        appended += batch
    }
    return appended
}

/// The path of an executable built next to the tests.
func builtExecutable(_ name: String) -> String { productsDirectory + "/" + name }

/// Runs a command to completion; returns its exit status and standard output.
@discardableResult
func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let outputPipe = Pipe()
    process.standardOutput = outputPipe
    process.standardError = FileHandle.nullDevice
    let inputPipe = Pipe()
    if input != nil { process.standardInput = inputPipe }
    try process.run()
    if let input {
        inputPipe.fileHandleForWriting.write(input)
        try inputPipe.fileHandleForWriting.close()
    }
    let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

/// Whether an executable is on the PATH.
func commandExists(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains { directory in
        FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)")
    }
}
