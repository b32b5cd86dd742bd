import Foundation
import RefLedgerStore
import RefLedgerTestSupport
import Testing

@Suite struct EventLogTests {
    @Test func appendsAndReadsBack() throws {
        let directory = try TemporaryDirectory("log")
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 1)
        let log = try EventLog.open(directory: directory.path, readOnly: false)
        #expect(try log.head() == .empty)
        #expect(try log.append([]).isEmpty)
        let entries = Bodies.entries(from: 1, count: 50, using: &generator)
        let links = try log.append(Array(entries[..<20])) + log.append(Array(entries[20...]))
        #expect(links.map(\.seq) == Array(1...50))
        #expect(links[0].prevHash == Chain.genesisHash)
        for index in 1..<links.count { #expect(links[index].prevHash == links[index - 1].hash) }
        #expect(try log.head() == EventLog.Head(seq: 50, hash: links[49].hash))

        for (index, entry) in entries.enumerated() {
            let record = try #require(try log.record(at: entry.seq))
            #expect(record.body == entry.body)
            #expect(record.hash == links[index].hash)
            #expect(record.prevHash == links[index].prevHash)
            let full = try JSONSerialization.jsonObject(with: Data(try record.fullJSON())) as? [String: Any]
            #expect(full?["prev"] as? String == links[index].prevHex)
            #expect(full?["hash"] as? String == links[index].hashHex)
        }
        #expect(try log.record(at: 0) == nil)
        #expect(try log.record(at: 51) == nil)

        var scanned: [EventLog.StoredRecord] = []
        try log.scan(from: 10, through: 1000) { scanned.append($0) }
        #expect(scanned.map(\.seq) == Array(10...50))
        #expect(scanned.first?.prevHash == links[8].hash)
        #expect(scanned.map(\.body) == entries[9...].map(\.body))
        log.close()

        let reopened = try EventLog.open(directory: directory.path, readOnly: true)
        defer { reopened.close() }
        #expect(try reopened.head().seq == 50)
        #expect(try reopened.record(at: 17)?.body == entries[16].body)
        #expect(try reopened.verifyChain().isValid)
    }

    @Test func chainMatchesAnIndependentComputation() throws {
        let directory = try TemporaryDirectory("chain")
        defer { directory.remove() }
        let log = try EventLog.open(directory: directory.path, readOnly: false)
        defer { log.close() }
        let bodies = [
            #"{"id":"e1","program":"p","seq":1,"time":"2026-01-01T00:00:00.000Z","type":"program"}"#,
            #"{"amount":10,"currency":"USD","id":"e2","program":"p","recorded_at":"2026-01-01T00:00:01.000Z","seq":2,"time":"2026-01-01T00:00:00.000Z","type":"conversion"}"#,
            #"{"id":"e3","program":"p","rules":{"currency":"EUR","hold_days":3},"seq":3,"type":"program"}"#,
        ]
        let links = try log.append(
            bodies.enumerated().map { index, body in
                EventLog.Entry(id: "e\(index + 1)", seq: UInt64(index + 1), body: Array(body.utf8))
            }
        )
        var prevHex = String(repeating: "0", count: 64)
        for (index, body) in bodies.enumerated() {
            // Insert "prev" by hand: it sorts after "id"/"amount"/"currency", before "program".
            let withPrev = body.replacingOccurrences(of: #","program":"#, with: #","prev":"\#(prevHex)","program":"#)
            let expected = sha256Hex(Array((prevHex + "\n" + withPrev).utf8))
            #expect(links[index].hashHex == expected)
            prevHex = expected
        }
    }

    @Test func indexesIDs() throws {
        let directory = try TemporaryDirectory("ids")
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 2)
        let log = try EventLog.open(directory: directory.path, readOnly: false)
        defer { log.close() }
        let entries = try appendGenerated(to: log, total: 300, batchSize: 64, using: &generator)
        for entry in entries { #expect(try log.seq(forID: entry.id) == entry.seq) }
        #expect(try log.seq(forID: "no-such-id") == nil)
        #expect(try log.seq(forID: "") == nil)
        // Looked up together (in key order), each answer stays at its id's place.
        let asked = [
            entries[200].id, "no-such-id", entries[3].id, "", String(repeating: "x", count: 600), entries[3].id,
        ]
        #expect(
            try log.seqs(forIDs: asked) == [entries[200].seq, nil, entries[3].seq, nil, nil, entries[3].seq]
        )

        let duplicate = EventLog.Entry(
            id: entries[5].id,
            seq: 301,
            body: Array(#"{"id":"x","program":"p","seq":301}"#.utf8)
        )
        let fresh = EventLog.Entry(id: "fresh", seq: 302, body: Array(#"{"id":"fresh","program":"p","seq":302}"#.utf8))
        let error = #expect(throws: StoreError.self) {
            try log.append(
                [fresh, duplicate].enumerated().map { index, entry in
                    EventLog.Entry(id: entry.id, seq: 301 + UInt64(index), body: entry.body)
                }
            )
        }
        #expect(error?.code == .duplicateID)
        #expect(try log.head().seq == 300)
        #expect(try log.seq(forID: "fresh") == nil)
    }

    @Test func rejectsSeqsOutOfOrderAndMalformedBodies() throws {
        let directory = try TemporaryDirectory("order")
        defer { directory.remove() }
        let log = try EventLog.open(directory: directory.path, readOnly: false)
        defer { log.close() }
        func entry(_ seq: UInt64, _ body: String? = nil) -> EventLog.Entry {
            EventLog.Entry(
                id: "e\(seq)",
                seq: seq,
                body: Array((body ?? #"{"id":"e\#(seq)","program":"p","seq":\#(seq)}"#).utf8)
            )
        }
        _ = try log.append([entry(1), entry(2)])
        for batch in [[entry(2)], [entry(4)], [entry(3), entry(5)], [entry(3), entry(3)], [entry(0)]] {
            let error = #expect(throws: StoreError.self) { try log.append(batch) }
            #expect(error?.code == .invalidArgument)
        }
        for body in ["not json", #"{"id":"e3","prev":"x","seq":3}"#, #"["e3"]"#] {
            let error = #expect(throws: StoreError.self) { try log.append([entry(3, body)]) }
            #expect(error?.code == .invalidArgument)
        }
        // A batch large enough to be checked on several threads names its first bad body.
        let large = (3...202).map { seq in
            seq == 150 || seq == 190 ? entry(seq, #"{"id":"e\#(seq)","prev":"x","seq":\#(seq)}"#) : entry(seq)
        }
        for _ in 0..<5 {
            let error = #expect(throws: StoreError.self) { try log.append(large) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("seq 150") == true, "\(String(describing: error))")
        }
        #expect(try log.head().seq == 2)
        _ = try log.append([entry(3)])
        #expect(try log.verifyChain().isValid)
    }

    @Test func readOnlyLogRefusesWritesAndMissingDirectoriesAreNotFound() throws {
        let directory = try TemporaryDirectory("ro")
        defer { directory.remove() }
        let missing = #expect(throws: StoreError.self) {
            try EventLog.open(directory: directory.appending("nothing"), readOnly: true)
        }
        #expect(missing?.code == .notFound)
        let writer = try EventLog.open(directory: directory.path, readOnly: false)
        let second = #expect(throws: StoreError.self) { try EventLog.open(directory: directory.path, readOnly: false) }
        #expect(second?.code == .directoryLocked)
        writer.close()
        let log = try EventLog.open(directory: directory.path, readOnly: true)
        let error = #expect(throws: StoreError.self) {
            try log.append([EventLog.Entry(id: "a", seq: 1, body: Array(#"{"id":"a","program":"p","seq":1}"#.utf8))])
        }
        #expect(error?.code == .readOnly)
        log.close()
        let closed = #expect(throws: StoreError.self) { try log.head() }
        #expect(closed?.code == .closed)
    }

    @Test func mapGrowsFromATinyInitialSize() throws {
        let directory = try TemporaryDirectory("grow")
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 3)
        let options = EventLog.Options(initialMapSizeBytes: 128 << 10, useDictionary: false)
        let log = try EventLog.open(directory: directory.path, readOnly: false, options: options)
        defer { log.close() }
        let entries = try appendGenerated(to: log, total: 20_000, batchSize: 500, using: &generator)
        let stats = try log.storageStats()
        #expect(stats.records == 20_000)
        #expect(stats.mapSizeBytes > 128 << 10)
        var index = 0
        try log.scan(from: 1, through: .max) { record in
            #expect(record.body == entries[index].body)
            index += 1
        }
        #expect(index == entries.count)
        #expect(try log.verifyChain().isValid)
    }

    @Test func reachingTheMapLimitIsStorageFullAndChangesNothing() throws {
        let directory = try TemporaryDirectory("full")
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 4)
        let capped = EventLog.Options(initialMapSizeBytes: 128 << 10, maxMapSizeBytes: 1 << 20, useDictionary: false)
        let log = try EventLog.open(directory: directory.path, readOnly: false, options: capped)
        var failure: StoreError?
        var batches = 0
        while failure == nil, batches < 1_000 {
            let before = try log.head()
            let batch = Bodies.entries(from: before.seq + 1, count: 200, using: &generator)
            do {
                _ = try log.append(batch)
            } catch let error as StoreError {
                failure = error
                #expect(try log.head() == before)
                #expect(try log.record(at: before.seq + 1) == nil)
                #expect(try log.seq(forID: batch[0].id) == nil)
            }
            batches += 1
        }
        let error = try #require(failure)
        #expect(error.code == .storageFull)
        #expect(error.isStorageFull)
        let head = try log.head()
        #expect(head.seq > 0)
        #expect(try log.verifyChain().isValid)
        #expect(try log.record(at: head.seq) != nil)
        log.close()

        var bigger = capped
        bigger.maxMapSizeBytes = 4 << 20
        let reopened = try EventLog.open(directory: directory.path, readOnly: false, options: bigger)
        defer { reopened.close() }
        #expect(try reopened.head() == head)
        try appendGenerated(to: reopened, total: 100, batchSize: 10, using: &generator)
        #expect(try reopened.head().seq == head.seq + 100)
        #expect(try reopened.verifyChain().isValid)
    }

    @Test func trainsADictionaryAndStillReadsEverything() throws {
        let plainDirectory = try TemporaryDirectory("nodict")
        let dictionaryDirectory = try TemporaryDirectory("dict")
        defer {
            plainDirectory.remove()
            dictionaryDirectory.remove()
        }
        var generator = SeededGenerator(seed: 5)
        let entries = Bodies.entries(from: 1, count: 3_000, using: &generator)
        let training = EventLog.Options(dictionaryTrainingRecords: 1_000)
        var plainOptions = training
        plainOptions.useDictionary = false
        let plain = try EventLog.open(directory: plainDirectory.path, readOnly: false, options: plainOptions)
        let withDictionary = try EventLog.open(directory: dictionaryDirectory.path, readOnly: false, options: training)
        for start in stride(from: 0, to: 2_000, by: 250) {
            let batch = Array(entries[start..<(start + 250)])
            #expect(try plain.append(batch) == withDictionary.append(batch))
        }
        #expect(withDictionary.currentDictionaryID == 1)
        #expect(withDictionary.lastDictionaryError == nil)
        #expect(plain.currentDictionaryID == nil)
        withDictionary.close()

        // Reopening picks the dictionary up again.
        let reopened = try EventLog.open(directory: dictionaryDirectory.path, readOnly: false, options: training)
        #expect(reopened.currentDictionaryID == 1)
        _ = try plain.append(Array(entries[2_000...]))
        _ = try reopened.append(Array(entries[2_000...]))
        let plainStats = try plain.storageStats()
        let dictionaryStats = try reopened.storageStats()
        #expect(plainStats.recordsByCodec[2] == 0)
        #expect(dictionaryStats.recordsByCodec[2] >= 2_000)
        #expect(dictionaryStats.currentDictionaryID == 1)
        #expect(dictionaryStats.logValueBytes < plainStats.logValueBytes)

        var index = 0
        try reopened.scan(from: 1, through: .max) { record in
            #expect(record.body == entries[index].body)
            index += 1
        }
        #expect(index == 3_000)
        #expect(try reopened.verifyChain().isValid)
        reopened.close()
        plain.close()
        let reader = try EventLog.open(directory: dictionaryDirectory.path, readOnly: true)
        defer { reader.close() }
        #expect(try reader.record(at: 2_500)?.body == entries[2_499].body)
    }
}
