import ArgumentParser
import Foundation
import RefLedgerStore

/// `refledger export --data DIR [-o FILE] [--from SEQ] [--to SEQ]`
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write stored events as zstd-compressed NDJSON (readable by `zstd -dc`).",
        discussion: "Each line is a stored event with its prev and hash, as canonical JSON."
    )

    @OptionGroup var data: DataOption

    @Option(name: .shortAndLong, help: ArgumentHelp("Output file (default: standard output).", valueName: "FILE"))
    var output: String?

    @Option(help: ArgumentHelp("First seq to export.", valueName: "SEQ"))
    var from: UInt64 = 1

    @Option(help: ArgumentHelp("Last seq to export (default: the head).", valueName: "SEQ"))
    var to: UInt64?

    func validate() throws {
        guard from >= 1 else { throw ValidationError("--from must be at least 1") }
        if let to, to < from { throw ValidationError("--to must not be below --from") }
    }

    func run() throws {
        let log = try EventLog.open(directory: data.directory, readOnly: true)
        let head = try log.head().seq
        let last = min(to ?? head, head)
        let descriptor: Int32
        if let output {
            descriptor = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard descriptor >= 0 else {
                throw CommandFailure("cannot write \(output): \(String(cString: strerror(errno)))")
            }
        } else {
            descriptor = STDOUT_FILENO
        }
        defer { if descriptor != STDOUT_FILENO { close(descriptor) } }
        let writer = try Zstd.StreamWriter(fileDescriptor: descriptor)
        var progress = Progress("export", total: last)
        var line: [UInt8] = []
        if from <= last {
            try log.scan(from: from, through: last) { record in
                line.removeAll(keepingCapacity: true)
                line.append(contentsOf: try record.fullJSON())
                line.append(0x0A)
                try writer.write(line)
                progress.update(record.seq)
            }
        }
        try writer.finish()
        progress.finish()
    }
}
