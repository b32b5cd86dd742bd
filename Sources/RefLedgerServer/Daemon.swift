import Foundation
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import NIOPosix
import RefLedgerCore
import RefLedgerStore
import ServiceLifecycle
import Synchronization

/// The refledger daemon: the writer thread, the HTTP interface on a Unix domain socket, and
/// their life from start to graceful shutdown.
public enum Daemon {
    /// Why the daemon did not start (another daemon on the data directory or the socket, a
    /// socket path too long, an unreadable log), for a person.
    public struct StartFailure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// Runs the daemon until SIGTERM or SIGINT, then shuts it down gracefully: stops
    /// accepting, ends follow streams, answers the requests in flight, commits what is queued,
    /// closes the environment and removes the socket.
    ///
    /// Logs one line when it is serving and one when it stopped, each with the head seq and
    /// the socket path.
    ///
    /// - Throws: ``StartFailure`` when it cannot start; what the server threw otherwise.
    public static func run(_ configuration: DaemonConfiguration, logger: Logger) async throws {
        let socketPath = configuration.socketPath
        guard socketPath.utf8.count <= DaemonConfiguration.maxSocketPathBytes else {
            throw StartFailure(
                description: "the socket path \(socketPath) is \(socketPath.utf8.count) bytes; "
                    + "Unix sockets allow at most \(DaemonConfiguration.maxSocketPathBytes)"
            )
        }
        let log: EventLog
        do {
            log = try EventLog.open(
                directory: configuration.dataDirectory,
                readOnly: false,
                options: configuration.logOptions
            )
        } catch let error as StoreError {
            throw StartFailure(description: error.message)
        }
        defer { log.close() }
        if let holder = SocketFile.liveListener(at: socketPath) {
            throw StartFailure(
                description: "another process is listening on \(socketPath) (\(holder)); choose another --socket"
            )
        }
        let writer: WriterThread
        let metrics = DaemonMetrics()
        let hub = CommitHub(maxFollowers: configuration.maxFollowStreams)
        do {
            let start = DispatchTime.now().uptimeNanoseconds
            let ledgerWriter = try LedgerWriter(log: log)
            let report = ledgerWriter.restoreReport
            metrics.restored(
                report,
                head: ledgerWriter.ledger.head,
                seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            )
            for skipped in report.skipped {
                logger.warning(
                    "snapshot ignored",
                    metadata: ["snapshot_seq": "\(skipped.seq)", "reason": "\(skipped.reason)"]
                )
            }
            writer = try WriterThread(
                writer: ledgerWriter,
                configuration: configuration,
                metrics: metrics,
                hub: hub,
                logger: logger
            )
        } catch {
            throw StartFailure(description: "cannot load the log in \(configuration.dataDirectory): \(error)")
        }
        writer.start()
        let readers = NIOThreadPool(numberOfThreads: max(1, configuration.readerThreads))
        readers.start()
        let state = DaemonState(
            writer: writer,
            log: log,
            hub: hub,
            metrics: metrics,
            configuration: configuration,
            readers: readers,
            asOfLedgers: AsOfLedgers(keeping: configuration.asOfLedgersKept)
        )

        var quiet = Logger(label: logger.label) { _ in RequestLogHandler(wrapping: logger.handler) }
        quiet.logLevel = .warning
        let bound = Atomic(false)
        let app = Application(
            responder: Routes(state: state),
            // `Expect: 100-continue` is answered at once; a close at shutdown waits for the last
            // response's bytes to reach the socket.
            server: HTTPServerBuilder { responder in
                EventLoopPinnedChannel(
                    inner: HTTP1Channel(
                        responder: responder,
                        configuration: .init(additionalChannelHandlers: [
                            ExpectContinueHandler(), CloseAfterWritesHandler(),
                        ])
                    )
                )
            },
            configuration: ApplicationConfiguration(
                address: .unixDomainSocket(path: socketPath),
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)
            ),
            onServerRunning: { _ in
                chmod(socketPath, 0o660)
                bound.store(true, ordering: .releasing)
                logger.info(
                    "refledger started",
                    metadata: [
                        "seq": "\(writer.committedHead)", "socket": "\(socketPath)",
                        "data": "\(configuration.dataDirectory)",
                    ]
                )
            },
            logger: quiet
        )
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: WriterService(writer: writer)),
                .init(service: app),
                .init(service: FollowService(hub: hub)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: quiet
        )
        groupConfiguration.maximumGracefulShutdownDuration = Duration.seconds(60)
        var failure: (any Error)?
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch {
            failure = error
        }
        hub.close()
        await writer.stop()
        try? await readers.shutdownGracefully()
        let seq = writer.committedHead
        log.close()
        if bound.load(ordering: .acquiring) { unlink(socketPath) }
        if let failure {
            logger.error(
                "refledger stopped",
                metadata: ["seq": "\(seq)", "socket": "\(socketPath)", "error": "\(failure)"]
            )
            throw failure
        }
        logger.info("refledger stopped", metadata: ["seq": "\(seq)", "socket": "\(socketPath)"])
    }
}

/// Keeps the writer running until graceful shutdown reaches it — after the server stopped
/// and answered every request in flight — then lets it commit what is queued and stop.
struct WriterService: Service {
    let writer: WriterThread

    func run() async throws {
        try? await gracefulShutdown()
        await writer.stop()
    }
}

/// Ends every follow stream when graceful shutdown starts, before the server waits for the
/// requests in flight (a follow stream would otherwise never end).
struct FollowService: Service {
    let hub: CommitHub

    func run() async throws {
        try? await gracefulShutdown()
        hub.close()
    }
}

/// Socket file hygiene.
enum SocketFile {
    /// A description of the process listening on `path`, or `nil` when nothing is there or
    /// only a stale socket file is (which the server then removes before binding).
    static func liveListener(at path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK else { return nil }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return connected == 0 ? "a live socket" : nil
    }
}
