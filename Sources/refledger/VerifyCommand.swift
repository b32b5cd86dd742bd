import ArgumentParser
import RefLedgerStore

/// `refledger verify --data DIR`
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Audit a data directory offline: the hash chain, every derived event and decision, the accounting invariant.",
        discussion: "Exit status 0 only if everything holds; otherwise what differs is printed, first bad seq first."
    )

    @OptionGroup var data: DataOption

    func run() throws {
        let log = try EventLog.open(directory: data.directory, readOnly: true)
        var progress = Progress("verify", total: try log.head().seq)
        let report = try LogVerifier().verify(log) { progress.update($0) }
        progress.finish()
        if let bad = report.chain.firstBadSeq {
            print("chain broken at seq \(bad): \(report.chain.reason ?? "hash mismatch")")
            throw ExitCode(1)
        }
        for note in report.notes { print("note: \(note)") }
        for problem in report.problems { print(problem) }
        guard report.isValid else { throw ExitCode(1) }
        print(
            "ok: \(report.chain.checked) events, chain and re-derivation hold, \(report.snapshotsChecked) snapshots "
                + "equal the replayed state; head seq \(report.chain.head.seq) hash \(report.chain.head.hashHex)"
        )
    }
}
