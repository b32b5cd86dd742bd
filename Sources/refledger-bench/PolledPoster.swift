import Foundation
import RefLedgerServer

/// The load generator of ingest (b): single-fact requests over many connections, all driven by
/// one thread with `poll(2)`, the way load generators such as wrk work.
///
/// A thread per connection (``UnixHTTPClient``) cost the benchmark ~25 µs of CPU a request on
/// 64 threads — a third of a core at 15k requests/s, taken from the daemon on a 2-core machine.
/// Requests are written out before timing starts; each connection has one request in flight
/// (no pipelining), and the next goes out as soon as its response is complete.
struct PolledPoster {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// One connection and the request it has in flight.
    private struct Connection {
        let descriptor: Int32
        /// The request being answered (an index into the requests), if any.
        var request: Int?
        /// Bytes of the request already written.
        var written = 0
        var started: UInt64 = 0
        /// Response bytes received and not yet consumed.
        var input: [UInt8] = []
        /// Where the response's body starts and how long it is, once its head is read.
        var body: (start: Int, length: Int)?
    }

    /// Posts each body as one `POST /v1/events` (`application/json`) over `connections`
    /// connections; a response other than 201 counts as failed.
    static func post(
        singles bodies: [[UInt8]],
        connections count: Int,
        socket: String
    ) throws
        -> IngestBenchmark.PostRun
    {
        let requests = bodies.map { body in
            Array(
                "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                    .utf8
            ) + body
        }
        var connections: [Connection] = []
        defer { for connection in connections { close(connection.descriptor) } }
        for _ in 0..<min(count, max(1, requests.count)) {
            let descriptor = try UnixHTTPClient.connectedSocket(path: socket)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            connections.append(Connection(descriptor: descriptor))
        }
        var run = IngestBenchmark.PostRun()
        run.latenciesMillis.reserveCapacity(requests.count)
        var next = 0
        var answered = 0
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { scratch.deallocate() }
        var polled = connections.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }

        let start = Bench.now()
        /// Starts the next request on connection `index`, if one is left.
        func startNext(on index: Int) throws {
            guard next < requests.count else {
                connections[index].request = nil
                return
            }
            connections[index].request = next
            connections[index].written = 0
            connections[index].started = Bench.now()
            next += 1
            try write(on: index)
        }
        /// Writes what the connection's request has left to write, as far as the socket takes it.
        func write(on index: Int) throws {
            guard let request = connections[index].request else { return }
            let bytes = requests[request]
            while connections[index].written < bytes.count {
                let sent = bytes.withUnsafeBytes { raw in
                    send(
                        connections[index].descriptor,
                        raw.baseAddress! + connections[index].written,
                        raw.count - connections[index].written,
                        Int32(MSG_NOSIGNAL)
                    )
                }
                if sent < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK { break }
                    throw Failure(description: "sending a request: \(String(cString: strerror(errno)))")
                }
                connections[index].written += sent
            }
            let pending = connections[index].written < bytes.count
            polled[index].events = Int16(POLLIN) | (pending ? Int16(POLLOUT) : 0)
        }
        /// Reads what arrived on connection `index` and finishes its response when complete.
        func read(on index: Int) throws {
            // One read: what is left over is reported ready again by the next poll.
            let received = recv(connections[index].descriptor, scratch.baseAddress!, scratch.count, 0)
            if received < 0 {
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { return }
                throw Failure(description: "reading a response: \(String(cString: strerror(errno)))")
            }
            guard received > 0 else { throw Failure(description: "the daemon closed a connection") }
            connections[index].input.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<received]))
            while try finishResponse(on: index) {}
        }
        /// Consumes one complete response on connection `index`, if there is one.
        func finishResponse(on index: Int) throws -> Bool {
            guard connections[index].request != nil else {
                guard connections[index].input.isEmpty else { throw Failure(description: "an unasked-for response") }
                return false
            }
            if connections[index].body == nil {
                guard let head = try Self.parseHead(connections[index].input) else { return false }
                connections[index].body = head.body
                if head.status != 201 { run.failed += 1 }
            }
            guard let body = connections[index].body,
                connections[index].input.count >= body.start + body.length
            else { return false }
            run.latenciesMillis.append(Double(Bench.now() - connections[index].started) / 1e6)
            run.facts += 1
            answered += 1
            connections[index].input.removeFirst(body.start + body.length)
            connections[index].body = nil
            try startNext(on: index)
            return true
        }

        for index in connections.indices { try startNext(on: index) }
        while answered < requests.count {
            let ready = poll(&polled, nfds_t(polled.count), 120_000)
            if ready < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "poll: \(String(cString: strerror(errno)))")
            }
            guard ready > 0 else { throw Failure(description: "no response for 120 s") }
            for index in polled.indices where polled[index].revents != 0 {
                if polled[index].revents & Int16(POLLOUT) != 0 { try write(on: index) }
                if polled[index].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { try read(on: index) }
            }
        }
        run.seconds = Double(Bench.now() - start) / 1e9
        return run
    }

    /// The status and where the body lies, once `input` holds a whole response head
    /// (``UnixHTTPClient/ResponseHead``, as the CLI's client reads it); the body must be sized
    /// by `Content-Length` (single-fact answers are).
    static func parseHead(_ input: [UInt8]) throws -> (status: Int, body: (start: Int, length: Int))? {
        guard input.count >= 4,
            let end = (0...(input.count - 4)).first(where: { input[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) })
        else { return nil }
        let head = try UnixHTTPClient.ResponseHead(parsing: input[..<end])
        if head.value(of: "connection")?.lowercased() == "close" {
            throw Failure(description: "the daemon closes the connection after a response")
        }
        guard let length = head.value(of: "content-length").flatMap({ Int($0) }) else {
            throw Failure(description: "a response without Content-Length")
        }
        return (head.status, (end + 4, length))
    }
}
