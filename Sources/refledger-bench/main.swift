import Foundation

// refledger-bench: benchmark programs that print JSON (never timed tests).
//   refledger-bench store [--events N]    the append path, raw LMDB beside it, bytes/event, export, verify
//   refledger-bench ledger [--facts N]    in-memory apply, durable import, verify, query latency
//   refledger-bench ingest [--batch-facts N] [--single-facts N] [--snapshot-every N]   the daemon: batches and
//                                           single facts, snapshots, restart
//   refledger-bench gen --seed N --facts N   the seeded traffic generator (NDJSON on stdout)

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "store": try StoreBenchmark(arguments: Array(arguments.dropFirst())).run()
    case "ledger": try LedgerBenchmark(arguments: Array(arguments.dropFirst())).run()
    case "ingest": try IngestBenchmark(arguments: Array(arguments.dropFirst())).run()
    case "gen": try runGen(arguments: Array(arguments.dropFirst()))
    default:
        FileHandle.standardError.write(Data("usage: refledger-bench store|ledger|ingest|gen [options]\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("refledger-bench: \(error)\n".utf8))
    exit(1)
}
