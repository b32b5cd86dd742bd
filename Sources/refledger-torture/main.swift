// refledger-torture: a writer for crash tests.
//
//     refledger-torture append DIR BATCHES BATCHSIZE [TRAINING_RECORDS [INITIAL_MAP_BYTES]]
//
// Opens the log in DIR as its writer and appends BATCHES batches of BATCHSIZE synthetic
// events, continuing from the current head. After each commit returns it writes the last
// committed seq on its own line to stdout, unbuffered, so a parent that kills it at any moment
// knows which seqs were acknowledged as durable. TRAINING_RECORDS (default 4096) sets when the
// compression dictionary is trained, so a crash test can kill it around that moment too;
// INITIAL_MAP_BYTES (default 64 MiB) a small map that must grow while readers follow.
import Foundation
import RefLedgerStore

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("refledger-torture: \(message)\n".utf8))
    exit(2)
}

let arguments = CommandLine.arguments
guard (5...7).contains(arguments.count), arguments[1] == "append",
    let batches = Int(arguments[3]), batches >= 0,
    let batchSize = Int(arguments[4]), (1...100_000).contains(batchSize)
else {
    fail("usage: refledger-torture append DIR BATCHES BATCHSIZE [TRAINING_RECORDS [INITIAL_MAP_BYTES]]")
}
var options = EventLog.Options()
if arguments.count >= 6 {
    guard let training = Int(arguments[5]), training > 0 else { fail("TRAINING_RECORDS must be a positive integer") }
    options.dictionaryTrainingRecords = training
}
if arguments.count == 7 {
    guard let mapBytes = Int(arguments[6]), mapBytes >= 4096 else { fail("INITIAL_MAP_BYTES must be at least 4096") }
    options.initialMapSizeBytes = mapBytes
}

/// A synthetic canonical body (keys sorted, no whitespace) for `seq`.
func body(seq: UInt64) -> [UInt8] {
    let channel = ["email", "sms", "link", "social", "other"][Int(seq % 5)]
    return Array(
        (#"{"channel":"\#(channel)","id":"t-\#(seq)","participant":"p-\#(seq % 977)","#
            + #""program":"torture","seq":\#(seq),"time":"2026-01-01T00:00:00.000Z","type":"invite"}"#).utf8
    )
}

do {
    let log = try EventLog.open(directory: arguments[2], readOnly: false, options: options)
    var seq = try log.head().seq
    for _ in 0..<batches {
        var batch: [EventLog.Entry] = []
        batch.reserveCapacity(batchSize)
        for _ in 0..<batchSize {
            seq += 1
            batch.append(EventLog.Entry(id: "t-\(seq)", seq: seq, body: body(seq: seq)))
        }
        _ = try log.append(batch)
        // An unbuffered write(2): the line is out before the next batch starts.
        FileHandle.standardOutput.write(Data("\(seq)\n".utf8))
    }
    log.close()
} catch {
    fail("\(error)")
}
