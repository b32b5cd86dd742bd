import RefLedgerStore

/// Rewrites the value stored under `key` in the named database of the data directory in
/// `directory` with LMDB directly, as an attacker or a bad disk would; with `change` setting it
/// to `nil`, deletes it. No process may be writing the directory meanwhile.
///
/// - Throws: ``MissingStoredValue`` if nothing is stored under `key`; LMDB failures.
public func tamperStoredValue(
    directory: String,
    database name: String,
    key: [UInt8],
    _ change: (inout [UInt8]?) throws -> Void
) throws {
    let environment = try LMDB.Environment(path: directory, flags: [], maxDatabases: 16)
    defer { environment.close() }
    let txn = try environment.beginTransaction(readOnly: false)
    let database = try txn.openDatabase(name, create: false)
    guard var value = try txn.get(database, key: key) else {
        throw MissingStoredValue(description: "no value under \(key) in \(name) of \(directory)")
    }
    var changed: [UInt8]? = value
    try change(&changed)
    if let changed {
        value = changed
        try txn.put(database, key: key, value: value)
    } else {
        try txn.delete(database, key: key)
    }
    try txn.commit()
}

/// The key ``tamperStoredValue(directory:database:key:_:)`` was asked to change holds nothing.
public struct MissingStoredValue: Error, CustomStringConvertible {
    /// Which key of which database.
    public var description: String
}

/// The key of `seq` in the `log` and `snapshots` databases: 8 bytes big-endian.
public func seqKey(_ seq: UInt64) -> [UInt8] { withUnsafeBytes(of: seq.bigEndian) { Array($0) } }
