import ArgumentParser
import Foundation
import RefLedgerCore
import RefLedgerStore

/// `refledger import FILE --data DIR`
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Build a data directory from NDJSON (plain or .zst) of facts or of stored events.",
        discussion: """
            Facts are judged one by one as the daemon would: rejected lines are reported (line number, code) \
            and skipped, and the exit status is 1 if any was. Stored events (an export) are re-derived: the \
            import stops with exit status 1 at the first event, decision, prev or hash that differs.
            """
    )

    @Argument(help: "NDJSON file, plain or zstd-compressed; - for standard input.")
    var file: String

    @OptionGroup var data: DataOption

    func run() throws {
        let descriptor = file == "-" ? STDIN_FILENO : open(file, O_RDONLY)
        guard descriptor >= 0 else { throw CommandFailure("cannot open \(file): \(String(cString: strerror(errno)))") }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        let reader = try LineReader(fileDescriptor: descriptor)
        let log = try EventLog.open(directory: data.directory, readOnly: false)
        var progress = Progress("import")
        // Rejections are written in blocks (a write per line was 3% of a large import's judging
        // thread), flushed at each commit and before the summary.
        let rejections = OutputBuffer(fileDescriptor: STDERR_FILENO)
        defer { rejections.flush() }
        let result: (summary: Importer.Summary, storedEvents: Bool)
        do {
            result = try Importer().run(
                from: reader,
                into: log,
                onRejection: { rejection in
                    let error = rejection.error
                    rejections.write(
                        "line \(rejection.line): \(error.code.rawValue)" + (error.field.map { " (\($0))" } ?? "")
                            + ": \(error.message)\n"
                    )
                },
                progress: {
                    rejections.flush()
                    progress.update(UInt64($0))
                }
            )
        } catch let mismatch as Importer.Mismatch {
            progress.finish()
            throw CommandFailure("import of stored events stopped at \(mismatch); head is seq \(try log.head().seq)")
        }
        rejections.flush()
        progress.finish()
        let summary = result.summary
        if result.storedEvents {
            Terminal.error(
                "imported \(summary.events) stored events; head seq \(summary.head.seq) hash \(summary.head.hashHex)"
            )
        } else {
            Terminal.error(
                "imported \(summary.created) facts (\(summary.events) events), \(summary.duplicates) duplicates, "
                    + "\(summary.rejected) rejected; head seq \(summary.head.seq) hash \(summary.head.hashHex)"
            )
        }
        if let failure = summary.snapshotFailure {
            Terminal.error("warning: no snapshot written (a daemon will replay the whole log at start): \(failure)")
        }
        if summary.rejected > 0 { throw ExitCode(1) }
    }
}
