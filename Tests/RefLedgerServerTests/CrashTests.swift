import Foundation
import RefLedgerServer
import RefLedgerStore
import RefLedgerTestSupport
import Synchronization
import Testing

@Suite struct CrashTests {
    /// Under concurrent load the daemon is killed with SIGKILL at random moments; after each
    /// restart every fact that was answered `created` is in the log, and at the end `verify`
    /// passes over the whole log.
    @Test func everyAcknowledgedFactSurvivesSIGKILL() throws {
        let daemon = try DaemonHarness("cr")
        defer { daemon.finish() }
        #expect(try daemon.client().postBatch([Facts.program, Facts.alice]).status == 200)
        let acknowledged = Acknowledged()
        var generator = SystemRandomNumberGenerator()
        for round in 0..<10 {
            let stop = Atomic(false)
            let workers = startThreads(4) { worker in
                let client = daemon.client(timeoutSeconds: 10)
                var next = 0
                while !stop.load(ordering: .relaxed) {
                    next += 1
                    let id = "r\(round)-w\(worker)-\(next)"
                    if next % 4 == 0 {
                        let ids = (0..<20).map { "\(id)-\($0)" }
                        guard let (status, lines) = try? client.postBatch(ids.map(Facts.invite)), status == 200 else {
                            break
                        }
                        for line in lines where jsonObject(line)["status"] as? String == "created" {
                            acknowledged.add(jsonObject(line)["id"] as? String ?? "")
                        }
                    } else {
                        guard let response = try? client.post(Facts.invite(id)) else { break }
                        if response.status == 201 { acknowledged.add(id) }
                    }
                }
            }
            usleep(UInt32.random(in: 50_000...400_000, using: &generator))
            daemon.killHard()
            stop.store(true, ordering: .relaxed)
            workers.wait()
            let log = try EventLog.open(directory: daemon.dataPath, readOnly: true)
            let missing = try acknowledged.ids.filter { try log.seq(forID: $0) == nil }
            log.close()
            #expect(missing.isEmpty, "round \(round): \(missing.count) acknowledged facts are missing")
            try daemon.restart()
        }
        #expect(acknowledged.ids.count > 100)
        let head = jsonObject(try daemon.client().get("/v1/health").text)["seq"] as? Int ?? 0
        #expect(head >= acknowledged.ids.count + 2)
        #expect(daemon.terminate() == 0)
        let verify = try runCommand("refledger", ["verify", "--data", daemon.dataPath])
        #expect(verify.status == 0, "\(verify.output) \(verify.stderr)")
    }
}

/// Ids answered `created`, collected from several threads.
final class Acknowledged: Sendable {
    private let stored = Mutex(Set<String>())

    func add(_ id: String) { stored.withLock { _ = $0.insert(id) } }

    var ids: Set<String> { stored.withLock { $0 } }
}
