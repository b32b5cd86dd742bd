import CZstd

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of a zstd call (`ZSTD_isError`), or of the file I/O around a zstd stream.
public struct ZstdError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The `ZSTD_ErrorCode` (`ZSTD_getErrorCode`), or `0` when the failure is not libzstd's.
    public let code: UInt32

    /// The system `errno` of a failed read or write, or `0`.
    public let systemErrno: Int32

    /// `ZSTD_getErrorName`, or what failed.
    public let message: String

    /// Makes an error with explicit fields.
    public init(code: UInt32, systemErrno: Int32 = 0, message: String) {
        self.code = code
        self.systemErrno = systemErrno
        self.message = message
    }

    /// `"zstd: <message>"`.
    public var description: String { "zstd: \(message)" }

    /// `ZSTD_error_corruption_detected`: the input is not a valid frame.
    public static let corruptionDetectedCode = ZSTD_error_corruption_detected.rawValue
    /// `ZSTD_error_dictionary_wrong`: the frame needs another dictionary.
    public static let dictionaryWrongCode = ZSTD_error_dictionary_wrong.rawValue
    /// `ZSTD_error_dstSize_tooSmall`: the output does not fit the room given.
    public static let destinationTooSmallCode = ZSTD_error_dstSize_tooSmall.rawValue

    /// A failed `read`/`write` of a zstd stream's file.
    static func io(_ operation: String, errno: Int32) -> ZstdError {
        ZstdError(code: 0, systemErrno: errno, message: "\(operation) failed: \(String(cString: strerror(errno)))")
    }

    /// Input that libzstd accepted but that breaks an expectation of the caller.
    static func invalid(_ message: String) -> ZstdError {
        ZstdError(code: 0, message: message)
    }
}

extension ZstdError {
    /// The error a libzstd result code encodes (`ZSTD_isError(result)` must hold).
    init(result: Int) {
        self.init(code: ZSTD_getErrorCode(result).rawValue, message: String(cString: ZSTD_getErrorName(result)))
    }
}

/// Returns `result`, or throws the zstd error it encodes.
@inline(__always)
func zstdCheck(_ result: Int) throws(ZstdError) -> Int {
    if ZSTD_isError(result) != 0 { throw ZstdError(result: result) }
    return result
}
