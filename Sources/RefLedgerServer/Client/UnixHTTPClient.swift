import Foundation

/// A small blocking HTTP/1.1 client over a Unix domain socket: what `refledger post`,
/// `query --socket`, the tests and the benchmark talk to the daemon with.
///
/// One connection, kept alive between requests and opened again when the server closed it.
/// Responses are read by `Content-Length`, by chunked transfer coding, or to the end of the
/// connection. Heads are bounded (64 KiB), bodies by ``maxBodyBytes``.
///
/// Not thread-safe: use one client per thread.
public final class UnixHTTPClient {
    /// A response: status, headers (names lower-cased) and body.
    public struct Response: Sendable {
        /// The HTTP status code.
        public var status: Int
        /// Header fields in order, names lower-cased.
        public var headers: [(name: String, value: String)]
        /// The body, de-chunked.
        public var body: [UInt8]

        /// The first value of header `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            let lowered = name.lowercased()
            return headers.first { $0.name == lowered }?.value
        }

        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// A failure to connect, send or read, for a person.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
        /// Whether the request may not have reached the server (nothing of a response came).
        public var beforeResponse: Bool
    }

    /// The socket path.
    public let socketPath: String
    /// The largest body read (a larger one fails).
    public var maxBodyBytes = 1 << 30
    private let timeoutSeconds: Int
    private var connection = SocketConnection(descriptor: -1)
    private var reusedConnection = false

    /// A new connection to the socket at `path`, as a blocking descriptor the caller owns
    /// (and closes): for callers that drive many connections themselves.
    public static func connectedSocket(path: String) throws(Failure) -> Int32 {
        try SocketConnection.connect(path: path, timeoutSeconds: 0).descriptor
    }

    /// A client for the daemon at `socketPath`; it connects on the first request.
    ///
    /// - Parameter timeoutSeconds: how long one read or write may block (0: forever).
    public init(socketPath: String, timeoutSeconds: Int = 120) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { connection.close() }

    /// Closes the connection (the next request opens a new one).
    public func close() {
        connection.close()
        reusedConnection = false
    }

    /// Sends one request and reads the whole response.
    ///
    /// A request on a kept-alive connection that the server had closed meanwhile is sent once
    /// more on a new connection (nothing of it reached the server).
    public func request(
        _ method: String,
        _ target: String,
        body: [UInt8]? = nil,
        contentType: String? = nil
    ) throws(Failure) -> Response {
        var collected: [UInt8] = []
        let maxBody = maxBodyBytes
        let head = try send(method, target, body: body, contentType: contentType) {
            (chunk: [UInt8]) throws(Failure) -> Bool in
            guard collected.count + chunk.count <= maxBody else {
                throw Failure(description: "the response body is over \(maxBody) bytes", beforeResponse: false)
            }
            collected.append(contentsOf: chunk)
            return true
        }
        return Response(status: head.status, headers: head.headers, body: collected)
    }

    /// Sends one request and hands the response body to `onBody` as it arrives (for follow
    /// streams); `onBody` returns `false` to stop reading, which closes the connection.
    ///
    /// - Returns: the status and headers.
    @discardableResult
    public func stream(
        _ method: String,
        _ target: String,
        body: [UInt8]? = nil,
        contentType: String? = nil,
        onBody: ([UInt8]) throws(Failure) -> Bool
    ) throws(Failure) -> Response {
        let head = try send(method, target, body: body, contentType: contentType, onBody: onBody)
        return Response(status: head.status, headers: head.headers, body: [])
    }

    private func send(
        _ method: String,
        _ target: String,
        body: [UInt8]?,
        contentType: String?,
        onBody: ([UInt8]) throws(Failure) -> Bool
    ) throws(Failure) -> ResponseReader.Head {
        var request = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n"
        if let contentType { request += "Content-Type: \(contentType)\r\n" }
        if body != nil || method == "POST" || method == "PUT" { request += "Content-Length: \(body?.count ?? 0)\r\n" }
        request += "\r\n"
        var bytes = Array(request.utf8)
        if let body { bytes.append(contentsOf: body) }
        var attempt = 0
        while true {
            attempt += 1
            do {
                try ensureConnected()
                try connection.writeAll(bytes)
                var reader = ResponseReader(connection: connection)
                let head = try reader.readHead()
                let keepAlive = try reader.readBody(head: head, onBody: onBody)
                if keepAlive {
                    reusedConnection = true
                } else {
                    close()
                }
                return head
            } catch {
                let retry = error.beforeResponse && reusedConnection && attempt == 1
                close()
                if !retry { throw error }
            }
        }
    }

    private func ensureConnected() throws(Failure) {
        guard connection.descriptor < 0 else { return }
        connection = try SocketConnection.connect(path: socketPath, timeoutSeconds: timeoutSeconds)
        reusedConnection = false
    }
}
