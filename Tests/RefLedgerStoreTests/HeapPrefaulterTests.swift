import Foundation
import Synchronization
import Testing

@testable import RefLedgerStore

/// The heap pre-faulter maps in the pages below a moving top without changing what they hold,
/// and stops when asked. (For a bound thread the top is the pre-faulted arena's frontier plus
/// the span; in the first test it is the end of a region of the test's own.)
@Suite struct HeapPrefaulterTests {
    static let page = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// How many of the pages of `range` (page-aligned offsets into `base`) are resident.
    static func residentPages(_ base: UnsafeMutableRawPointer, _ range: Range<Int>) -> Int {
        var vector = [UInt8](repeating: 0, count: range.count / page)
        _ = vector.withUnsafeMutableBufferPointer { mincore(base + range.lowerBound, range.count, $0.baseAddress) }
        return vector.filter { $0 & 1 == 1 }.count
    }

    @Test func mapsInThePagesBelowTheTopAsItMovesAndKeepsTheirContents() throws {
        let size = 64 * Self.page
        let span = 16 * Self.page
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        let base = try #require(mapped == MAP_FAILED ? nil : mapped)
        defer { munmap(base, size) }
        // A byte written below the first top, which populating must leave as it is.
        base.storeBytes(of: 0xA5, toByteOffset: 20 * Self.page + 7, as: UInt8.self)
        let top = Mutex(32 * Self.page)
        #expect(Self.residentPages(base, 0..<size) == 1)

        let address = UInt(bitPattern: base)
        let prefaulter = HeapPrefaulter(span: span) { address + UInt(top.withLock { $0 }) }
        func waitUntilResident(_ range: Range<Int>) -> Bool {
            for _ in 0..<500 where Self.residentPages(base, range) < range.count / Self.page { usleep(2_000) }
            return Self.residentPages(base, range) == range.count / Self.page
        }
        #expect(waitUntilResident((16 * Self.page)..<(32 * Self.page)))
        top.withLock { $0 = 64 * Self.page }
        #expect(waitUntilResident((48 * Self.page)..<(64 * Self.page)))
        prefaulter.stop()

        // Nothing outside the spans below the two tops was touched, and nothing was changed.
        #expect(Self.residentPages(base, 0..<(16 * Self.page)) == 0)
        #expect(Self.residentPages(base, (32 * Self.page)..<(48 * Self.page)) == 0)
        #expect(base.load(fromByteOffset: 20 * Self.page + 7, as: UInt8.self) == 0xA5)
        #expect(base.load(fromByteOffset: 50 * Self.page, as: UInt64.self) == 0)
    }

    @Test func mallocIsJemallocAndABoundThreadAllocatesFromThePrefaultedRegion() throws {
        #expect(HeapPrefaulter.mallocIsJemalloc)
        // On a thread of its own: a bound thread stays bound.
        let span = 4 << 20
        let outcome = Mutex<(frontier: UInt, inRegion: Bool, ahead: Bool)?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let prefaulter = HeapPrefaulter(span: span)
            defer { prefaulter.stop() }
            let size = 8 << 20
            let allocation = malloc(size)!
            defer { free(allocation) }
            memset(allocation, 1, size)
            let frontier = HeapPrefaulter.arenaFrontier
            guard frontier > 0 else {  // no region could be reserved
                outcome.withLock { $0 = (0, false, false) }
                done.signal()
                return
            }
            // Nothing is allocated on this thread while it waits, so the frontier stays put and
            // the span above it is the pre-faulter's to map in (nothing else touches it).
            let page = UInt(Self.page)
            let start = UnsafeMutableRawPointer(bitPattern: (frontier + page - 1) & ~(page - 1))!
            var vector = [UInt8](repeating: 0, count: span / Self.page)
            func allResident() -> Bool {
                vector.withUnsafeMutableBufferPointer { _ = mincore(start, span, $0.baseAddress) }
                return vector.allSatisfy { $0 & 1 == 1 }
            }
            var ahead = allResident()
            for _ in 0..<2500 where !ahead {
                usleep(2_000)
                ahead = allResident()
            }
            outcome.withLock { $0 = (frontier, HeapPrefaulter.arenaContains(allocation), ahead) }
            done.signal()
        }
        thread.start()
        done.wait()
        let result = try #require(outcome.withLock { $0 })
        try #require(result.frontier > 0, "the pre-faulted arena's region was reserved")
        #expect(result.inRegion, "the bound thread allocated from the region")
        #expect(result.ahead, "the span above the frontier was mapped in")
    }
}
