import Foundation

/// Output helpers: buffered stdout, stderr lines, and progress that shows only on a terminal.
enum Terminal {
    /// Writes a line to standard error.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Whether standard error is a terminal (progress is shown only then).
    static let showsProgress = isatty(STDERR_FILENO) == 1
}

/// A progress line on standard error, redrawn at most a few times a second, only on a terminal.
struct Progress {
    private let label: String
    private let total: UInt64?
    private var lastDraw = DispatchTime.now()
    private var drawn = false

    init(_ label: String, total: UInt64? = nil) {
        self.label = label
        self.total = total
    }

    mutating func update(_ done: UInt64) {
        guard Terminal.showsProgress else { return }
        let now = DispatchTime.now()
        guard now.uptimeNanoseconds - lastDraw.uptimeNanoseconds > 200_000_000 else { return }
        lastDraw = now
        drawn = true
        let text = total.map { "\(label): \(done)/\($0)" } ?? "\(label): \(done)"
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    func finish() {
        guard drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// Buffered writes to a file descriptor.
final class OutputBuffer {
    private let fileDescriptor: Int32
    private var buffer: [UInt8] = []

    init(fileDescriptor: Int32 = STDOUT_FILENO) {
        self.fileDescriptor = fileDescriptor
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func flush() {
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let written = Foundation.write(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}
