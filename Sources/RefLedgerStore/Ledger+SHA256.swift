import Crypto
import Foundation
public import RefLedgerCore

extension Ledger {
    /// swift-crypto's SHA-256: the hasher of every ledger the store builds.
    public static let standardHasher: Hasher = { SHA256.hash(data: $0).bytes }

    /// An empty ledger that assigns codes with swift-crypto's SHA-256.
    public static func standard() -> Ledger { Ledger(sha256: standardHasher) }
}

extension Ledger {
    /// A ``Ledger/Fork`` that runs the first piece of work on a new thread and the second on the
    /// calling one, and returns when both are done: how the store decodes snapshots.
    public static let onTwoThreads: Fork = { first, second in
        let done = DispatchSemaphore(value: 0)
        Thread {
            first()
            done.signal()
        }.start()
        second()
        done.wait()
    }
}
