import RefLedgerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads `\n`-separated lines from a file descriptor holding plain text or a zstd stream
/// (NDJSON or `.ndjson.zst`), never keeping more than one bounded line in memory.
///
/// A line is its bytes without the newline, `\n` or `\r\n`. One longer than ``maxLineBytes`` is
/// skipped and reported as ``Line/tooLong(byteCount:)``; reading goes on with the next line. A last line without a
/// newline is returned as a line. The descriptor is not closed. Use on one thread at a time.
public final class LineReader {
    /// How the input is encoded.
    public enum Compression: Sendable, Hashable {
        /// Plain bytes.
        case none
        /// A zstd stream.
        case zstd
        /// zstd if the input starts with the zstd frame magic number, else plain.
        case automatic
    }

    /// One line of input.
    public enum Line: Sendable, Hashable {
        /// The line's bytes, without the newline.
        case complete([UInt8])
        /// A line over the limit, with its full length; its bytes were dropped.
        case tooLong(byteCount: Int)
    }

    /// The longest line returned whole, in bytes.
    public let maxLineBytes: Int

    /// Whether the input is read as a zstd stream.
    public let isCompressed: Bool

    /// The 1-based number of the line last returned (0 before the first).
    public private(set) var lineNumber = 0

    private let fileDescriptor: Int32
    private let zstdReader: Zstd.StreamReader?
    private let chunk: UnsafeMutableRawBufferPointer
    private var chunkStart = 0
    private var chunkEnd = 0
    private var finished = false

    /// The 4 bytes every zstd frame starts with (0xFD2FB528, little-endian).
    static let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    /// Starts reading `fileDescriptor`.
    ///
    /// - Throws: ``StoreError`` with code ``StoreError/Code/io`` if the first read fails.
    public init(
        fileDescriptor: Int32,
        compression: Compression = .automatic,
        maxLineBytes: Int = 65_536
    )
        throws(StoreError)
    {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.fileDescriptor = fileDescriptor
        self.maxLineBytes = maxLineBytes
        self.chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        var prefix: [UInt8] = []
        if compression == .automatic {
            prefix = try Self.readPrefix(fileDescriptor, count: Self.zstdMagic.count)
        }
        let compressed = compression == .zstd || (compression == .automatic && prefix == Self.zstdMagic)
        isCompressed = compressed
        if compressed {
            do {
                zstdReader = try Zstd.StreamReader(fileDescriptor: fileDescriptor, prefix: prefix)
            } catch {
                chunk.deallocate()
                throw StoreError.zstd(error, "reading zstd input")
            }
        } else {
            zstdReader = nil
            prefix.withUnsafeBytes { chunk.copyMemory(from: $0) }
            chunkEnd = prefix.count
        }
    }

    deinit { chunk.deallocate() }

    /// Where ``appendNextLine(to:)`` put a line.
    public enum AppendedLine: Sendable, Hashable {
        /// The line's bytes, without the newline, are the last `byteCount` bytes of the buffer.
        case complete(byteCount: Int)
        /// A line over the limit, with its full length; nothing of it was appended.
        case tooLong(byteCount: Int)
    }

    /// The next line, or `nil` at the end of the input.
    ///
    /// - Throws: ``StoreError`` (``StoreError/Code/io`` for a failed read,
    ///   ``StoreError/Code/corrupted`` for damaged or truncated zstd input).
    public func nextLine() throws(StoreError) -> Line? {
        var line: [UInt8] = []
        switch try appendNextLine(to: &line) {
        case nil: return nil
        case .complete: return .complete(line)
        case .tooLong(let byteCount): return .tooLong(byteCount: byteCount)
        }
    }

    /// Appends the next line's bytes to `buffer`, or returns `nil` at the end of the input:
    /// many lines can share one buffer, rather than each having an array of its own.
    ///
    /// - Throws: as ``nextLine()``.
    public func appendNextLine(to buffer: inout [UInt8]) throws(StoreError) -> AppendedLine? {
        let start = buffer.count
        var byteCount = 0
        var sawBytes = false
        while true {
            if chunkStart == chunkEnd {
                let more = finished ? false : try fill()
                if !more {
                    finished = true
                    guard sawBytes else { return nil }
                    lineNumber += 1
                    return ended(&buffer, from: start, byteCount: byteCount)
                }
            }
            sawBytes = true
            let available = UnsafeRawBufferPointer(rebasing: chunk[chunkStart..<chunkEnd])
            // memchr: a generic `firstIndex(of:)` compares a byte at a time.
            let newline = memchr(available.baseAddress!, 0x0A, available.count).map {
                available.baseAddress!.distance(to: UnsafeRawPointer($0))
            }
            let piece = UnsafeRawBufferPointer(rebasing: available[..<(newline ?? available.endIndex)])
            // One byte over the limit is kept: a final `\r` is not counted.
            if byteCount + piece.count <= maxLineBytes + 1 {
                buffer.append(contentsOf: piece)
            } else if buffer.count > start {
                buffer.removeSubrange(start...)
            }
            byteCount += piece.count
            chunkStart += piece.count
            if newline != nil {
                chunkStart += 1
                lineNumber += 1
                return ended(&buffer, from: start, byteCount: byteCount)
            }
        }
    }

    /// A line read whole into `buffer` from `start`, without a final `\r` (it belongs to a
    /// CRLF newline, as the daemon reads NDJSON): too long, and taken out again, if what is
    /// left is over `maxLineBytes`.
    private func ended(_ buffer: inout [UInt8], from start: Int, byteCount: Int) -> AppendedLine {
        var count = byteCount
        if NDJSONLine.contentEnd(of: buffer[start...]) < buffer.endIndex {
            buffer.removeLast()
            count -= 1
        }
        guard count <= maxLineBytes else {
            if buffer.count > start { buffer.removeSubrange(start...) }
            return .tooLong(byteCount: byteCount)
        }
        return .complete(byteCount: buffer.count - start)
    }

    /// Reads the next chunk; `false` at the end of the input.
    private func fill() throws(StoreError) -> Bool {
        chunkStart = 0
        chunkEnd = 0
        if let zstdReader {
            do {
                chunkEnd = try zstdReader.read(into: chunk)
            } catch {
                if error.systemErrno != 0 { throw StoreError(.io, "reading input: \(error.message)") }
                throw StoreError(.corrupted, "input is not valid zstd: \(error.message)")
            }
        } else {
            chunkEnd = try Self.readSome(fileDescriptor, into: chunk)
        }
        return chunkEnd > 0
    }

    private static func readSome(
        _ fileDescriptor: Int32,
        into buffer: UnsafeMutableRawBufferPointer
    )
        throws(StoreError) -> Int
    {
        while true {
            let count = systemRead(fileDescriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR {
                throw StoreError(.io, "reading input: \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func readPrefix(_ fileDescriptor: Int32, count: Int) throws(StoreError) -> [UInt8] {
        var prefix = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            var failure: StoreError?
            let got = prefix.withUnsafeMutableBytes { bytes in
                do throws(StoreError) {
                    return try readSome(fileDescriptor, into: UnsafeMutableRawBufferPointer(rebasing: bytes[filled...]))
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            if got == 0 { break }
            filled += got
        }
        prefix.removeSubrange(filled...)
        return prefix
    }
}
