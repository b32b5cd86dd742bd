import Foundation
import RefLedgerStore
import Synchronization
import Testing

/// The process's own threads go by their names where `ps -L`, `top -H` and `perf` read them.
@Suite struct NamedThreadTests {
    /// The name the kernel holds for a thread started with `name`.
    private static func kernelName(of name: String) -> String? {
        let seen = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        NamedThread.start(name) {
            seen.withLock { $0 = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8) }
            done.signal()
        }
        done.wait()
        return seen.withLock { $0 }
    }

    @Test func aThreadGoesByItsName() {
        #expect(Self.kernelName(of: "ledger-writer") == "ledger-writer\n")
    }

    @Test func aNameOverFifteenBytesIsCutNotLost() {
        // Linux refuses a longer name outright; the first 15 bytes are kept instead.
        #expect(Self.kernelName(of: "refledger-snapshot") == "refledger-snaps\n")
    }
}
