import Foundation
import RefLedgerStore
import RefLedgerTestSupport

/// The raw LMDB baseline that refledger's own numbers are measured against.
enum RawLMDB {
    /// Appends `totalEvents` values of `valueSizeBytes` bytes under 8-byte big-endian keys to a
    /// fresh environment in `directory` (created, and emptied of `data.mdb`/`lock.mdb` first),
    /// with `MDB_APPEND` and one durable commit per `batchSize` values.
    ///
    /// With `ids` (one per event), each event also puts its id with its 8-byte seq into a
    /// second database (`MDB_NOOVERWRITE`, each batch's ids in key order, sorted before the
    /// clock starts): the two puts the store's append makes for every event.
    ///
    /// - Returns: events per second over the whole run.
    static func measure(
        directory: String,
        valueSizeBytes: Int,
        batchSize: Int,
        totalEvents: Int,
        ids: [[UInt8]]? = nil
    ) throws -> Double {
        precondition(valueSizeBytes > 0 && batchSize > 0 && totalEvents > 0, "sizes must be positive")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["data.mdb", "lock.mdb"] {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        let mapSizeBytes = max(64 << 20, totalEvents * (valueSizeBytes + 64) * 2)
        let environment = try LMDB.Environment(
            path: directory,
            flags: [.noThreadLocalStorage],
            mapSizeBytes: mapSizeBytes,
            maxDatabases: 4
        )
        defer { environment.close() }
        let setup = try environment.beginTransaction(readOnly: false)
        let database = try setup.openDatabase("log", create: true)
        let idDatabase = try setup.openDatabase("ids", create: true)
        try setup.commit()
        precondition(ids == nil || ids!.count >= totalEvents, "one id per event")
        // Each batch's events by id, the order the store puts ids in.
        let idOrders: [[Int]] =
            ids.map { ids in
                stride(from: 0, to: totalEvents, by: batchSize).map { start in
                    (start..<min(start + batchSize, totalEvents)).sorted { ids[$0].lexicographicallyPrecedes(ids[$1]) }
                }
            } ?? []

        // Random-ish values: a fixed pseudo-random pattern, varied per event in its first bytes.
        var generator = SeededGenerator(seed: 0x5EED)
        var value = (0..<valueSizeBytes).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let start = DispatchTime.now().uptimeNanoseconds
        var seq: UInt64 = 0
        while seq < UInt64(totalEvents) {
            let txn = try environment.beginTransaction(readOnly: false)
            let count = min(UInt64(batchSize), UInt64(totalEvents) - seq)
            for _ in 0..<count {
                seq += 1
                withUnsafeBytes(of: generator.next()) { random in
                    for index in 0..<min(8, valueSizeBytes) { value[index] = random[index] }
                }
                var key = seq.bigEndian
                try withUnsafeBytes(of: &key) { keyBytes in
                    try value.withUnsafeBytes { valueBytes in
                        try txn.put(database, key: keyBytes, value: valueBytes, flags: .append)
                    }
                }
            }
            if let ids {
                for index in idOrders[Int(seq - 1) / batchSize] {
                    var eventSeq = UInt64(index + 1).bigEndian
                    try ids[index].withUnsafeBytes { idBytes in
                        try withUnsafeBytes(of: &eventSeq) { seqBytes in
                            try txn.put(idDatabase, key: idBytes, value: seqBytes, flags: .noOverwrite)
                        }
                    }
                }
            }
            try txn.commit()
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(totalEvents) / seconds
    }
}
