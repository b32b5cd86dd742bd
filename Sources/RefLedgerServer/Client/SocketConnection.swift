import Foundation

/// One connected Unix stream socket: blocking reads and writes with timeouts, no SIGPIPE.
struct SocketConnection {
    private(set) var descriptor: Int32

    /// Connects to the socket at `path`.
    static func connect(path: String, timeoutSeconds: Int) throws(UnixHTTPClient.Failure) -> SocketConnection {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw failure("the socket path \(path) is too long (\(bytes.count) bytes)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw failure("socket(): \(String(cString: strerror(errno)))") }
        if timeoutSeconds > 0 {
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            Foundation.close(descriptor)
            throw failure("cannot connect to \(path): \(reason) (is `refledger serve` running?)")
        }
        return SocketConnection(descriptor: descriptor)
    }

    /// Writes every byte.
    func writeAll(_ bytes: [UInt8]) throws(UnixHTTPClient.Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Foundation.send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.failure("sending the request: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Reads what is there (at least one byte) onto the end of `buffer`, or `nil` at the end
    /// of the stream.
    func read(into buffer: inout [UInt8], maxBytes: Int = 32 << 10) throws(UnixHTTPClient.Failure) -> Int? {
        // Received into scratch space and appended: only the bytes that came are touched.
        let (count, failure) = withUnsafeTemporaryAllocation(byteCount: maxBytes, alignment: 1) { scratch in
            while true {
                let count = Foundation.recv(descriptor, scratch.baseAddress!, maxBytes, 0)
                if count < 0 && errno == EINTR { continue }
                if count > 0 { buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<count])) }
                return (count, count < 0 ? errno : 0)
            }
        }
        if count < 0 {
            let reason = failure == EAGAIN || failure == EWOULDBLOCK ? "timed out" : String(cString: strerror(failure))
            throw Self.failure("reading the response: \(reason)")
        }
        return count == 0 ? nil : count
    }

    /// Closes the socket; harmless when closed.
    mutating func close() {
        if descriptor >= 0 { Foundation.close(descriptor) }
        descriptor = -1
    }

    private static func failure(_ text: String) -> UnixHTTPClient.Failure {
        UnixHTTPClient.Failure(description: text, beforeResponse: true)
    }
}

extension UnixHTTPClient {
    /// A response's status and header fields (names in lower case).
    public struct ResponseHead: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]

        /// The value of the header field `name` (lower case), if the head has it.
        public func value(of name: String) -> String? { headers.first { $0.name == name }?.value }

        /// Parses a head: its bytes up to, not including, the CRLF CRLF that ends it.
        public init(parsing head: ArraySlice<UInt8>) throws(Failure) {
            let lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
                line.last == 0x0D ? line.dropLast() : line
            }
            let statusLine = lines[0]
            let prefix = Array("HTTP/1.".utf8)
            let statusStart = statusLine.startIndex + prefix.count + 2
            guard statusLine.starts(with: prefix), statusLine.count >= prefix.count + 5,
                statusLine[statusStart - 1] == 0x20,
                let status = Int(String(decoding: statusLine[statusStart..<statusStart + 3], as: UTF8.self))
            else {
                throw Failure(
                    description: "not an HTTP/1.1 response: \(String(decoding: statusLine, as: UTF8.self))",
                    beforeResponse: false
                )
            }
            var headers: [(name: String, value: String)] = []
            headers.reserveCapacity(lines.count - 1)
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: 0x3A) else { continue }
                let name = String(
                    decoding: line[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 },
                    as: UTF8.self
                )
                var value = line[(colon + 1)...]
                while let first = value.first, first == 0x20 || first == 0x09 { value.removeFirst() }
                while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
                headers.append((name, String(decoding: value, as: UTF8.self)))
            }
            self.status = status
            self.headers = headers
        }
    }
}

/// Reads one HTTP/1.1 response from a connection.
struct ResponseReader {
    typealias Head = UnixHTTPClient.ResponseHead

    static let maxHeadBytes = 64 << 10

    let connection: SocketConnection
    private var buffer: [UInt8] = []
    private var position = 0

    init(connection: SocketConnection) { self.connection = connection }

    /// The status line and headers.
    mutating func readHead() throws(UnixHTTPClient.Failure) -> Head {
        var searchFrom = 0
        while true {
            if let end = find([13, 10, 13, 10], from: searchFrom) {
                position = end + 4
                return try Head(parsing: buffer[..<end])
            }
            searchFrom = max(0, buffer.count - 3)
            guard buffer.count <= Self.maxHeadBytes else { throw failure("the response head is over 64 KiB") }
            guard try connection.read(into: &buffer) != nil else {
                throw UnixHTTPClient.Failure(
                    description: "the daemon closed the connection without an answer",
                    beforeResponse: buffer.isEmpty
                )
            }
        }
    }

    /// The body, handed on in pieces; returns whether the connection may be reused.
    mutating func readBody(
        head: Head,
        onBody: ([UInt8]) throws(UnixHTTPClient.Failure) -> Bool
    ) throws(UnixHTTPClient.Failure)
        -> Bool
    {
        let header = { (name: String) in head.value(of: name)?.lowercased() }
        let closes = header("connection") == "close"
        if header("transfer-encoding")?.contains("chunked") == true {
            while true {
                let line = try readLine()
                let sizeText = line.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard let size = Int(sizeText, radix: 16), size >= 0 else { throw failure("bad chunk size \(line)") }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    return !closes
                }
                var remaining = size
                while remaining > 0 {
                    let piece = try take(upTo: remaining)
                    remaining -= piece.count
                    guard try onBody(piece) else { return false }
                }
                guard try readLine().isEmpty else { throw failure("a chunk does not end with CRLF") }
            }
        }
        if let lengthText = header("content-length") {
            guard let length = Int(lengthText), length >= 0 else { throw failure("bad Content-Length \(lengthText)") }
            var remaining = length
            while remaining > 0 {
                let piece = try take(upTo: remaining)
                remaining -= piece.count
                guard try onBody(piece) else { return false }
            }
            return !closes
        }
        if head.status == 204 || head.status == 304 { return !closes }
        while true {
            if position < buffer.count {
                let piece = Array(buffer[position...])
                position = buffer.count
                guard try onBody(piece) else { return false }
            }
            buffer.removeAll(keepingCapacity: true)
            position = 0
            guard try connection.read(into: &buffer) != nil else { return false }
        }
    }

    private mutating func readLine() throws(UnixHTTPClient.Failure) -> String {
        while true {
            if let end = find([13, 10], from: position) {
                let line = String(decoding: buffer[position..<end], as: UTF8.self)
                position = end + 2
                return line
            }
            guard buffer.count - position <= Self.maxHeadBytes else { throw failure("a chunk header is too long") }
            try fill()
        }
    }

    /// Up to `count` buffered bytes (reading more when none are buffered).
    private mutating func take(upTo count: Int) throws(UnixHTTPClient.Failure) -> [UInt8] {
        if position >= buffer.count { try fill() }
        let end = min(buffer.count, position + count)
        let piece = Array(buffer[position..<end])
        position = end
        return piece
    }

    private mutating func fill() throws(UnixHTTPClient.Failure) {
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        guard try connection.read(into: &buffer) != nil else {
            throw failure("the daemon closed the connection mid-response")
        }
    }

    private func find(_ pattern: [UInt8], from start: Int) -> Int? {
        guard buffer.count >= pattern.count, start <= buffer.count - pattern.count else { return nil }
        var index = start
        while index <= buffer.count - pattern.count {
            if buffer[index] == pattern[0] && buffer[index..<index + pattern.count].elementsEqual(pattern) {
                return index
            }
            index += 1
        }
        return nil
    }

    private func failure(_ text: String) -> UnixHTTPClient.Failure {
        UnixHTTPClient.Failure(description: text, beforeResponse: false)
    }
}
