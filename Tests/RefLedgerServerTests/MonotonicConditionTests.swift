import Foundation
import Testing

@testable import RefLedgerServer

/// The writer's condition: timed waits last their time on the monotonic clock, and a signal
/// ends them early.
@Suite struct MonotonicConditionTests {
    @Test(arguments: [0.05, 0.25, 0.9])
    func aTimedWaitNobodyEndsLastsItsTime(seconds: Double) {
        let condition = MonotonicCondition()
        condition.lock()
        let start = DispatchTime.now().uptimeNanoseconds
        var woken = false
        // A wait may end without a wake-up; the time left is waited again, as callers do.
        while !woken {
            let waited = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if waited >= seconds { break }
            woken = condition.wait(seconds: seconds - waited)
        }
        condition.unlock()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        #expect(!woken)
        #expect(elapsed >= seconds && elapsed < seconds + 1, "\(elapsed) s")
    }

    @Test func aSignalEndsATimedWait() {
        let condition = MonotonicCondition()
        let state = Flag()
        condition.lock()
        Thread {
            usleep(50_000)
            condition.lock()
            state.isSet = true
            condition.signal()
            condition.unlock()
        }.start()
        let start = DispatchTime.now().uptimeNanoseconds
        while !state.isSet {
            guard condition.wait(seconds: 10) else { break }
        }
        condition.unlock()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        #expect(state.isSet)
        #expect(elapsed < 5, "\(elapsed) s")
    }

    /// A value the two threads share under the condition's lock.
    private final class Flag: @unchecked Sendable {
        var isSet = false
    }
}
