import CZstd

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Zstd {
    /// Compresses everything written to it into a single zstd frame on a file descriptor
    /// (`ZSTD_compressStream2`), readable by `zstd -dc`. Use on one thread at a time.
    ///
    /// The frame carries a content checksum. Call ``finish()`` to end the frame; a writer
    /// released without it leaves a truncated frame. The descriptor is not closed.
    public final class StreamWriter {
        private let context: OpaquePointer
        private let fileDescriptor: Int32
        private let output: UnsafeMutableRawBufferPointer
        private var isFinished = false

        /// Uncompressed bytes taken so far.
        public private(set) var bytesIn: UInt64 = 0
        /// Compressed bytes written to the descriptor so far.
        public private(set) var bytesOut: UInt64 = 0

        /// Starts a frame on `fileDescriptor` at `level`.
        public init(fileDescriptor: Int32, level: Int32 = 3) throws(ZstdError) {
            guard let context = ZSTD_createCCtx() else { throw ZstdError.invalid("ZSTD_createCCtx failed") }
            self.context = context
            self.fileDescriptor = fileDescriptor
            self.output = UnsafeMutableRawBufferPointer.allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
            _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
            _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        }

        deinit {
            ZSTD_freeCCtx(context)
            output.deallocate()
        }

        /// Compresses `bytes`, writing out whatever compressed output is ready.
        public func write(_ bytes: UnsafeRawBufferPointer) throws(ZstdError) {
            guard !isFinished else { throw ZstdError.invalid("write after finish") }
            try pump(bytes, directive: ZSTD_e_continue)
            bytesIn += UInt64(bytes.count)
        }

        /// Compresses `bytes`, writing out whatever compressed output is ready.
        public func write(_ bytes: [UInt8]) throws(ZstdError) {
            var failure: ZstdError?
            bytes.withUnsafeBytes { buffer in
                do throws(ZstdError) { try write(buffer) } catch { failure = error }
            }
            if let failure { throw failure }
        }

        /// Writes out everything taken so far as complete blocks, so a reader of the file can
        /// decompress it already (the frame stays open).
        public func flush() throws(ZstdError) {
            guard !isFinished else { throw ZstdError.invalid("flush after finish") }
            try pump(UnsafeRawBufferPointer(start: nil, count: 0), directive: ZSTD_e_flush)
        }

        /// Ends the frame and writes it out. Further writes throw.
        public func finish() throws(ZstdError) {
            guard !isFinished else { return }
            try pump(UnsafeRawBufferPointer(start: nil, count: 0), directive: ZSTD_e_end)
            isFinished = true
        }

        private func pump(_ bytes: UnsafeRawBufferPointer, directive: ZSTD_EndDirective) throws(ZstdError) {
            var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
            while true {
                var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
                let remaining = try zstdCheck(ZSTD_compressStream2(context, &out, &input, directive))
                try writeAll(UnsafeRawBufferPointer(rebasing: output[..<out.pos]))
                let done =
                    directive == ZSTD_e_continue ? input.pos == input.size : remaining == 0
                if done { return }
            }
        }

        private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(ZstdError) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(fileDescriptor, base + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw ZstdError.io("write", errno: errno)
                }
                offset += written
            }
            bytesOut += UInt64(bytes.count)
        }
    }

    /// Decompresses a zstd stream (one or more frames, as `zstd -dc` accepts) read from a
    /// file descriptor (`ZSTD_decompressStream`). Use on one thread at a time. The descriptor
    /// is not closed.
    public final class StreamReader {
        private let context: OpaquePointer
        private let fileDescriptor: Int32
        private let input: UnsafeMutableRawBufferPointer
        private var inputStart = 0
        private var inputEnd = 0
        private var endOfFile = false
        /// `ZSTD_decompressStream`'s last hint: 0 when the last frame ended exactly.
        private var frameRemaining = 0

        /// Starts reading `fileDescriptor`; `prefix` holds bytes already read from it (for
        /// instance while sniffing the format) that come first.
        public init(fileDescriptor: Int32, prefix: [UInt8] = []) throws(ZstdError) {
            guard let context = ZSTD_createDCtx() else { throw ZstdError.invalid("ZSTD_createDCtx failed") }
            self.context = context
            self.fileDescriptor = fileDescriptor
            let capacity = max(ZSTD_DStreamInSize(), prefix.count)
            self.input = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
            prefix.withUnsafeBytes { input.copyMemory(from: $0) }
            inputEnd = prefix.count
        }

        deinit {
            ZSTD_freeDCtx(context)
            input.deallocate()
        }

        /// Decompresses into `buffer`; returns how many bytes it filled, `0` only at the end of
        /// the stream.
        ///
        /// - Throws: ``ZstdError`` on damaged input, a stream cut off inside a frame, or a
        ///   failed read.
        public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ZstdError) -> Int {
            precondition(buffer.count > 0, "read into an empty buffer")
            while true {
                if inputStart == inputEnd && !endOfFile { try refill() }
                let atEnd = inputStart == inputEnd && endOfFile
                if atEnd && frameRemaining == 0 { return 0 }
                var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: inputEnd, pos: inputStart)
                var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                frameRemaining = try zstdCheck(ZSTD_decompressStream(context, &outBuffer, &inBuffer))
                inputStart = inBuffer.pos
                if outBuffer.pos > 0 { return outBuffer.pos }
                if atEnd {
                    throw ZstdError(
                        code: ZstdError.corruptionDetectedCode,
                        message: "zstd input ends inside a frame (truncated file?)"
                    )
                }
            }
        }

        private func refill() throws(ZstdError) {
            inputStart = 0
            inputEnd = 0
            while true {
                let count = systemRead(fileDescriptor, input.baseAddress, input.count)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ZstdError.io("read", errno: errno)
                }
                if count == 0 { endOfFile = true }
                inputEnd = count
                return
            }
        }
    }
}

/// `read(2)`, named apart from the stream types' own `read` methods.
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// `write(2)`, named apart from the stream types' own `write` methods.
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
