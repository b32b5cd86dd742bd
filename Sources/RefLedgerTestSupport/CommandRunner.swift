public import Foundation

/// What a finished child process printed and how it ended.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: String

    /// Standard output as UTF-8 text.
    public var output: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs a built executable of this package (or any path) to completion.
///
/// - Parameters:
///   - executable: a product name (looked up in `productsDirectory`) or an absolute path.
///   - input: bytes for standard input (closed after), or nil for none.
public func runCommand(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(
        fileURLWithPath: executable.hasPrefix("/") ? executable : productsDirectory + "/" + executable
    )
    process.arguments = arguments
    let stdout = Pipe()
    let stderr = Pipe()
    let stdin = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    // Drain stderr concurrently so a chatty child never blocks on a full pipe.
    let errorData = ErrorCollector()
    let reader = Thread { errorData.set(stderr.fileHandleForReading.readDataToEndOfFile()) }
    reader.start()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errorData.isSet { usleep(1000) }
    return CommandResult(status: process.terminationStatus, stdout: output, stderr: errorData.text)
}

private final class ErrorCollector: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var data: Data?

    func set(_ value: Data) {
        lock.lock()
        data = value
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return data != nil
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data ?? Data(), as: UTF8.self)
    }
}
