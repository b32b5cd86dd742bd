import Foundation
import RefLedgerTestSupport
import Testing

/// The benchmark programs at small sizes: each runs to the end and prints its JSON, with the
/// counts it was asked for. (What they measure is not checked here: benchmarks are programs,
/// not timed tests.)
@Suite struct BenchmarkSmokeTests {
    private func results(_ arguments: [String]) throws -> [String: Any] {
        let run = try runCommand("refledger-bench", arguments)
        #expect(run.status == 0, "\(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
        return try #require(object?["results"] as? [String: Any], "\(run.output)")
    }

    /// `--events` below a row's own count (2,000 at batch 1, 100,000 at batch 100) shortens
    /// that row too; it used to stop at a precondition in the raw LMDB baseline.
    @Test func storeRunsWithFewerEventsThanItsRows() throws {
        let store = try results(["store", "--events", "300"])
        let rows = try #require(store["append"] as? [[String: Any]])
        #expect(rows.map { $0["batch"] as? Int } == [1, 100, 10_000])
        #expect(rows.map { $0["events"] as? Int } == [300, 300, 300])
        #expect(rows.allSatisfy { ($0["raw_lmdb_events_per_s"] as? Double ?? 0) > 0 })
        #expect(store["verify_ok"] as? Bool == true)
    }

    @Test func ledgerRunsOnAFewFacts() throws {
        let ledger = try results(["ledger", "--facts", "300"])
        #expect(ledger["facts_generated"] as? Int == 300)
        #expect(ledger["verify_ok"] as? Bool == true)
        let created = ledger["import_created"] as? Int ?? 0
        let rejected = ledger["import_rejected"] as? Int ?? 0
        let duplicates = ledger["import_duplicates"] as? Int ?? 0
        #expect(created > 0 && created + rejected + duplicates == 300)
    }

    /// A short ingest run, with the daemon it starts. Its single-fact commits hold a fact or
    /// two; when their mean rounded to 1, the raw baseline's JSON named one key twice and the
    /// program stopped (it now keeps one).
    @Test func ingestRunsOnAFewFacts() throws {
        let ingest = try results(["ingest", "--batch-facts", "400", "--single-facts", "64"])
        let batches = try #require(ingest["a_ndjson_batches_1000_on_4"] as? [String: Any])
        let singles = try #require(ingest["b_single_fact_on_64"] as? [String: Any])
        #expect(batches["facts"] as? Int == 400 && batches["failed"] as? Int == 0)
        #expect(singles["facts"] as? Int == 64 && singles["failed"] as? Int == 0)
        #expect((ingest["raw_lmdb"] as? [String: Any])?["batch_1_events_per_s"] != nil)
        #expect((ingest["restart"] as? [String: Any])?["seconds_to_first_answer"] != nil)
    }

    /// Sizes the programs cannot run at are refused with a message, not a crash.
    @Test(arguments: [
        (["store", "--events", "0"], "--events takes an integer of at least 1"),
        (["ledger", "--facts", "1"], "--facts takes an integer of at least 100"),
        (["ledger", "--facts", "many"], "--facts takes an integer of at least 100"),
        (["ingest", "--snapshot-every", "0"], "--snapshot-every takes an integer of at least 1"),
    ])
    func sizesOutOfRangeAreRefused(arguments: [String], message: String) throws {
        let run = try runCommand("refledger-bench", arguments)
        #expect(run.status == 1)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }
}
