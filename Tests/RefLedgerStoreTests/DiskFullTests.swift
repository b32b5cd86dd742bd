import Foundation
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// Whether this process may mount a small tmpfs (root on Linux): the only honest way to fill
/// a disk in a test.
private let canMountTmpfs: Bool = {
    #if os(Linux)
    guard getuid() == 0, let probe = try? TemporaryDirectory("mnt") else { return false }
    defer { probe.remove() }
    guard (try? run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path]).status) == 0 else {
        return false
    }
    _ = try? run("/bin/umount", [probe.path])
    return true
    #else
    return false
    #endif
}()

@Suite struct DiskFullTests {
    @Test(.enabled(if: canMountTmpfs, "needs root to mount a tmpfs"))
    func aFullDiskIsStorageFullAndWritesResumeWhenSpaceReturns() throws {
        let mountPoint = try TemporaryDirectory("disk")
        defer { mountPoint.remove() }
        try #require(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mountPoint.path]).status == 0)
        defer { _ = try? run("/bin/umount", ["-l", mountPoint.path]) }

        var generator = SeededGenerator(seed: 31)
        let data = mountPoint.appending("data")
        let log = try EventLog.open(directory: data, readOnly: false, options: EventLog.Options(useDictionary: false))
        defer { log.close() }
        try appendGenerated(to: log, total: 2_000, batchSize: 500, using: &generator)
        // Leave about 1 MiB free.
        let filler = mountPoint.appending("filler")
        var attributes = try FileManager.default.attributesOfFileSystem(forPath: mountPoint.path)
        let free = (attributes[.systemFreeSize] as? NSNumber)?.intValue ?? 0
        try Data(count: max(0, free - (1 << 20))).write(to: URL(fileURLWithPath: filler))

        var failure: StoreError?
        var attempts = 0
        while failure == nil, attempts < 500 {
            attempts += 1
            let before = try log.head()
            let batch = Bodies.entries(from: before.seq + 1, count: 500, using: &generator)
            do {
                _ = try log.append(batch)
            } catch let error as StoreError {
                failure = error
                #expect(try log.head() == before)
                #expect(try log.record(at: before.seq + 1) == nil)
            }
        }
        let error = try #require(failure)
        #expect(error.code == .storageFull, "\(error)")
        let head = try log.head()
        #expect(try log.verifyChain().isValid)

        try FileManager.default.removeItem(atPath: filler)
        attributes = try FileManager.default.attributesOfFileSystem(forPath: mountPoint.path)
        try appendGenerated(to: log, total: 1_000, batchSize: 500, using: &generator)
        #expect(try log.head().seq == head.seq + 1_000)
        #expect(try log.verifyChain().isValid)
    }
}
