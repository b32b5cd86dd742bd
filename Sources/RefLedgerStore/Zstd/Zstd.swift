import CZstd

/// A thin Swift layer over libzstd: one-shot frames with or without a prepared dictionary,
/// dictionary training, and streams. Failures become thrown ``ZstdError``s; there are no
/// domain types here.
public enum Zstd {
    /// The linked library's version, e.g. `"1.5.4"`.
    public static var version: String { String(cString: ZSTD_versionString()) }

    /// The worst-case compressed size of `sourceBytes` bytes (`ZSTD_compressBound`).
    public static func compressBound(_ sourceBytes: Int) -> Int { ZSTD_compressBound(sourceBytes) }

    /// Trains a dictionary on `samples` (`ZDICT_trainFromBuffer`).
    ///
    /// - Parameters:
    ///   - samples: example inputs; training wants many (on the order of 100× the dictionary
    ///     size in total) and fails on too few.
    ///   - capacityBytes: the largest dictionary wanted; the result may be smaller.
    /// - Returns: the dictionary's bytes (with its zstd header and entropy tables).
    public static func trainDictionary(
        samples: [[UInt8]],
        capacityBytes: Int
    ) throws(ZstdError)
        -> [UInt8]
    {
        guard capacityBytes >= 256, !samples.isEmpty, samples.count <= Int(UInt32.max) else {
            throw ZstdError.invalid("dictionary training needs samples and at least 256 bytes of room")
        }
        var concatenated: [UInt8] = []
        concatenated.reserveCapacity(samples.reduce(0) { $0 + $1.count })
        var sizes: [Int] = []
        sizes.reserveCapacity(samples.count)
        for sample in samples {
            concatenated.append(contentsOf: sample)
            sizes.append(sample.count)
        }
        var dictionary = [UInt8](repeating: 0, count: capacityBytes)
        let result = dictionary.withUnsafeMutableBytes { dictionaryBytes in
            concatenated.withUnsafeBytes { sampleBytes in
                ZDICT_trainFromBuffer(
                    dictionaryBytes.baseAddress,
                    capacityBytes,
                    sampleBytes.baseAddress,
                    sizes,
                    UInt32(sizes.count)
                )
            }
        }
        if ZDICT_isError(result) != 0 {
            throw ZstdError(code: 0, message: String(cString: ZDICT_getErrorName(result)))
        }
        dictionary.removeSubrange(result...)
        return dictionary
    }
}

extension Zstd {
    /// A dictionary digested once for compression (`ZSTD_CDict`) and decompression
    /// (`ZSTD_DDict`), shared by any number of contexts on any threads.
    public final class PreparedDictionary: @unchecked Sendable {
        // @unchecked: both digested forms are immutable after creation, and libzstd documents
        // CDicts and DDicts as safe to share between threads.
        let compressionDictionary: OpaquePointer
        let decompressionDictionary: OpaquePointer

        /// The dictionary's bytes, as trained.
        public let bytes: [UInt8]

        /// The compression level the compression side was prepared for.
        public let compressionLevel: Int32

        /// Digests `bytes` (`ZSTD_createCDict`, `ZSTD_createDDict`).
        public init(bytes: [UInt8], compressionLevel: Int32) throws(ZstdError) {
            guard !bytes.isEmpty else { throw ZstdError.invalid("empty dictionary") }
            let cdict = bytes.withUnsafeBytes { ZSTD_createCDict($0.baseAddress, $0.count, compressionLevel) }
            guard let cdict else { throw ZstdError.invalid("ZSTD_createCDict failed") }
            let ddict = bytes.withUnsafeBytes { ZSTD_createDDict($0.baseAddress, $0.count) }
            guard let ddict else {
                ZSTD_freeCDict(cdict)
                throw ZstdError.invalid("ZSTD_createDDict failed")
            }
            self.compressionDictionary = cdict
            self.decompressionDictionary = ddict
            self.bytes = bytes
            self.compressionLevel = compressionLevel
        }

        deinit {
            ZSTD_freeCDict(compressionDictionary)
            ZSTD_freeDDict(decompressionDictionary)
        }
    }

    /// A reusable compression context (`ZSTD_CCtx`) making one self-contained frame per call:
    /// content size recorded, no dictionary id, a content checksum only if asked for. Use on
    /// one thread at a time.
    public final class Compressor {
        private let context: OpaquePointer
        private var scratch: UnsafeMutableRawBufferPointer

        /// The dictionary every frame is compressed with, if any.
        public private(set) var dictionary: PreparedDictionary?

        /// The compression level (without a dictionary; with one, the dictionary's own).
        public let level: Int32

        /// Creates a context at `level`, optionally with a dictionary; with `checksum`, each frame
        /// ends with a checksum of its content (XXH64) that decompression verifies.
        public init(level: Int32 = 3, dictionary: PreparedDictionary? = nil, checksum: Bool = false) throws(ZstdError) {
            guard let context = ZSTD_createCCtx() else { throw ZstdError.invalid("ZSTD_createCCtx failed") }
            self.context = context
            self.level = level
            self.scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
            _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
            _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0))
            _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_dictIDFlag, 0))
            _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1))
            try setDictionary(dictionary)
        }

        deinit {
            ZSTD_freeCCtx(context)
            scratch.deallocate()
        }

        /// Compresses later frames with `dictionary` (`ZSTD_CCtx_refCDict`), or with none.
        public func setDictionary(_ dictionary: PreparedDictionary?) throws(ZstdError) {
            _ = try zstdCheck(ZSTD_CCtx_refCDict(context, dictionary?.compressionDictionary))
            self.dictionary = dictionary
        }

        /// Compresses `source` into one frame appended to `output` (`ZSTD_compress2`).
        public func compress(
            _ source: UnsafeRawBufferPointer,
            appendingTo output: inout [UInt8]
        )
            throws(ZstdError)
        {
            let bound = ZSTD_compressBound(source.count)
            if scratch.count < bound {
                scratch.deallocate()
                scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: bound, alignment: 16)
            }
            let written = try zstdCheck(
                ZSTD_compress2(context, scratch.baseAddress, scratch.count, source.baseAddress, source.count)
            )
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<written]))
        }

        /// Compresses `source` into one frame.
        public func compress(_ source: [UInt8]) throws(ZstdError) -> [UInt8] {
            var output: [UInt8] = []
            var failure: ZstdError?
            source.withUnsafeBytes { bytes in
                do throws(ZstdError) { try compress(bytes, appendingTo: &output) } catch { failure = error }
            }
            if let failure { throw failure }
            return output
        }
    }

    /// A reusable decompression context (`ZSTD_DCtx`) for single frames that record their
    /// content size. Use on one thread at a time.
    public final class Decompressor {
        private let context: OpaquePointer
        private var scratch: UnsafeMutableRawBufferPointer

        /// Creates a context.
        public init() throws(ZstdError) {
            guard let context = ZSTD_createDCtx() else { throw ZstdError.invalid("ZSTD_createDCtx failed") }
            self.context = context
            self.scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 16)
        }

        deinit {
            ZSTD_freeDCtx(context)
            scratch.deallocate()
        }

        /// Decompresses one whole frame into the context's own buffer; the bytes returned stay
        /// valid until the next call on this decompressor.
        ///
        /// libzstd checks the output against the content size the frame records.
        ///
        /// - Throws: ``ZstdError`` if the frame is damaged, holds more than `maxOutputBytes`
        ///   (or more than the buffer and no content size), or is followed by other bytes.
        public func decompressFrame(
            _ frame: UnsafeRawBufferPointer,
            dictionary: PreparedDictionary?,
            maxOutputBytes: Int
        ) throws(ZstdError) -> UnsafeRawBufferPointer {
            // Try the buffer as it is (records are small); only a frame that does not fit pays for
            // reading its header, growing the buffer to its recorded size, and a second pass.
            let room = min(scratch.count, maxOutputBytes)
            let first = decompress(frame, into: room, dictionary: dictionary)
            if ZSTD_isError(first) == 0 {
                return UnsafeRawBufferPointer(rebasing: scratch[..<first])
            }
            guard ZSTD_getErrorCode(first) == ZSTD_error_dstSize_tooSmall else { throw ZstdError(result: first) }
            let contentSize = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
            guard contentSize != czstd_contentsize_error(), contentSize != czstd_contentsize_unknown() else {
                throw ZstdError(
                    code: ZstdError.corruptionDetectedCode,
                    message: "zstd frame without a readable content size"
                )
            }
            guard contentSize <= UInt64(maxOutputBytes) else {
                throw ZstdError(
                    code: ZstdError.destinationTooSmallCode,
                    message: "zstd frame of \(contentSize) bytes exceeds \(maxOutputBytes)"
                )
            }
            scratch.deallocate()
            scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(contentSize), alignment: 16)
            let produced = try zstdCheck(decompress(frame, into: scratch.count, dictionary: dictionary))
            return UnsafeRawBufferPointer(rebasing: scratch[..<produced])
        }

        /// One decompression call into the first `room` bytes of `scratch`; a zstd result code.
        private func decompress(_ frame: UnsafeRawBufferPointer, into room: Int, dictionary: PreparedDictionary?) -> Int
        {
            if let dictionary {
                return ZSTD_decompress_usingDDict(
                    context,
                    scratch.baseAddress,
                    room,
                    frame.baseAddress,
                    frame.count,
                    dictionary.decompressionDictionary
                )
            }
            return ZSTD_decompressDCtx(context, scratch.baseAddress, room, frame.baseAddress, frame.count)
        }

        /// Decompresses one whole frame that records its content size straight into a new
        /// array of that size (no intermediate buffer: for large frames).
        ///
        /// - Throws: ``ZstdError`` if the frame is damaged (its checksum, if it has one, fails),
        ///   records no content size or one over `maxOutputBytes`, or is followed by other bytes.
        public func decompressSized(_ frame: UnsafeRawBufferPointer, maxOutputBytes: Int) throws(ZstdError) -> [UInt8] {
            let contentSize = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
            guard contentSize != czstd_contentsize_error(), contentSize != czstd_contentsize_unknown() else {
                throw ZstdError(
                    code: ZstdError.corruptionDetectedCode,
                    message: "zstd frame without a readable content size"
                )
            }
            guard contentSize <= UInt64(maxOutputBytes) else {
                throw ZstdError(
                    code: ZstdError.destinationTooSmallCode,
                    message: "zstd frame of \(contentSize) bytes exceeds \(maxOutputBytes)"
                )
            }
            var result = 0
            let output = [UInt8](unsafeUninitializedCapacity: Int(contentSize)) { buffer, initialized in
                result = ZSTD_decompressDCtx(context, buffer.baseAddress, buffer.count, frame.baseAddress, frame.count)
                initialized = ZSTD_isError(result) == 0 ? result : 0
            }
            _ = try zstdCheck(result)
            guard result == Int(contentSize) else {
                throw ZstdError(
                    code: ZstdError.corruptionDetectedCode,
                    message: "zstd frame shorter than its content size"
                )
            }
            return output
        }

        /// Decompresses one whole frame into a new array.
        public func decompress(
            _ frame: [UInt8],
            dictionary: PreparedDictionary?,
            maxOutputBytes: Int
        )
            throws(ZstdError) -> [UInt8]
        {
            var output: [UInt8] = []
            var failure: ZstdError?
            frame.withUnsafeBytes { bytes in
                do throws(ZstdError) {
                    output = Array(try decompressFrame(bytes, dictionary: dictionary, maxOutputBytes: maxOutputBytes))
                } catch { failure = error }
            }
            if let failure { throw failure }
            return output
        }
    }
}
