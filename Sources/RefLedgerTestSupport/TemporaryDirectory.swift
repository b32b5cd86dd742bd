import Foundation

/// A fresh directory under the system's temporary folder, removed by `remove()`.
///
/// Paths are kept short so that Unix socket paths inside stay under the ~103-byte limit.
public struct TemporaryDirectory: Sendable {
    /// The directory's absolute path.
    public let path: String

    /// Creates a new, empty directory named `rl-<prefix>-<random>` under `/tmp`.
    public init(_ prefix: String = "t") throws {
        let name = "rl-\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        path = "/tmp/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func appending(_ component: String) -> String { path + "/" + component }

    /// Removes the directory and everything in it.
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Where `swift build` put this package's executables (the folder of the running test binary).
public let productsDirectory: String = {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    // On Linux the test runner is `<products>/refledgerPackageTests.xctest`; on macOS it sits deeper.
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("refledger").path),
        directory.path != "/"
    {
        directory = directory.deletingLastPathComponent()
    }
    return directory.path
}()
