import ArgumentParser
import Foundation
import RefLedgerCore
import RefLedgerServer
import RefLedgerStore

/// `refledger post [FILE] --socket PATH`
struct PostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "post",
        abstract:
            "Send NDJSON facts from a file or standard input to a running daemon; print one result line per fact.",
        discussion: """
            Facts go in NDJSON batches (1,000 lines each by default). The result lines are printed in input \
            order; the exit status is 1 if any line failed. A daemon answering 503 (overloaded) is retried.
            """
    )

    @Argument(help: "NDJSON facts, plain or zstd-compressed; standard input when absent or -.")
    var file: String?

    @Option(help: ArgumentHelp("The daemon's socket.", valueName: "PATH"))
    var socket: String = "./data/refledger.sock"

    @Option(help: ArgumentHelp("Lines per request (1–10000).", valueName: "N"))
    var batchLines: Int = 1000

    /// Bytes per request at most, so a batch stays well under the daemon's body limit.
    static let maxBatchBytes = 8 << 20

    func validate() throws {
        if !(1...10_000).contains(batchLines) { throw ValidationError("--batch-lines must be 1…10000.") }
    }

    func run() throws {
        let path = file ?? "-"
        let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY)
        guard descriptor >= 0 else { throw CommandFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        let reader = try LineReader(fileDescriptor: descriptor, maxLineBytes: FactDecoder.maxFactBytes)
        let client = UnixHTTPClient(socketPath: socket)
        let output = OutputBuffer()
        var failed = 0
        // Lines too long to send are answered here, as the daemon would, in their place.
        var batch: [[UInt8]?] = []
        var batchBytes = 0
        func flush() throws {
            guard !batch.isEmpty else { return }
            failed += try send(batch, client: client, output: output)
            batch.removeAll(keepingCapacity: true)
            batchBytes = 0
        }
        while let line = try reader.nextLine() {
            switch line {
            case .complete(let bytes):
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                if batchBytes + bytes.count + 1 > Self.maxBatchBytes { try flush() }
                batch.append(bytes)
                batchBytes += bytes.count + 1
            case .tooLong(let count):
                batch.append(nil)
                _ = count
            }
            if batch.count >= batchLines { try flush() }
        }
        try flush()
        output.flush()
        if failed > 0 {
            Terminal.error("refledger post: \(failed) line(s) failed")
            throw ExitCode(1)
        }
    }

    /// Posts one batch (retrying while the daemon is overloaded), prints its result lines, and
    /// returns how many failed.
    private func send(_ batch: [[UInt8]?], client: UnixHTTPClient, output: OutputBuffer) throws -> Int {
        var body: [UInt8] = []
        for case let line? in batch {
            body.append(contentsOf: line)
            body.append(0x0A)
        }
        var results: [ArraySlice<UInt8>] = []
        if !body.isEmpty {
            var delayMillis: UInt32 = 50
            while true {
                let response: UnixHTTPClient.Response
                do {
                    response = try client.request("POST", "/v1/events", body: body, contentType: "application/x-ndjson")
                } catch {
                    throw CommandFailure(error.description)
                }
                if response.status == 503 && delayMillis <= 5_000 {
                    usleep(delayMillis * 1000)
                    delayMillis *= 2
                    continue
                }
                guard response.status == 200 else { throw SocketClient.failure(response) }
                results = response.body.split(separator: 0x0A, omittingEmptySubsequences: true)
                break
            }
        }
        let tooLong = ResultJSON.errorLine(
            LedgerError(.tooLarge, "a fact may be at most \(FactDecoder.maxFactBytes) bytes")
        )
        var failed = 0
        var next = results.makeIterator()
        for line in batch {
            let result: ArraySlice<UInt8>
            if line == nil {
                result = tooLong[...]
            } else if let answered = next.next() {
                result = answered
            } else {
                throw CommandFailure("the daemon answered fewer result lines than lines sent")
            }
            if !Self.succeeded(result) { failed += 1 }
            output.write(Array(result) + [0x0A])
        }
        return failed
    }

    /// Whether a result line reports a created or duplicate fact (results start with `seq`).
    static func succeeded(_ line: ArraySlice<UInt8>) -> Bool {
        line.starts(with: Array(#"{"seq":"#.utf8))
    }
}
