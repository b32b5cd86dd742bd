import Crypto
public import RefLedgerCore

extension Ledger {
    /// swift-crypto's SHA-256: the hasher of every ledger the store builds.
    public static let standardHasher: Hasher = { Array(SHA256.hash(data: $0)) }

    /// An empty ledger that assigns codes with swift-crypto's SHA-256.
    public static func standard() -> Ledger { Ledger(sha256: standardHasher) }
}
