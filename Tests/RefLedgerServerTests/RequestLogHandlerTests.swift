import Logging
import RefLedgerServer
import Synchronization
import Testing

/// A handler that keeps what reaches it, in `captured`.
private struct CapturingHandler: LogHandler {
    let captured: Captured
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.metadata = metadata.merging(event.metadata ?? [:]) { _, logged in logged }
        captured.events.withLock { $0.append(event) }
    }
}

private final class Captured: Sendable {
    let events = Mutex<[LogEvent]>([])
}

@Suite struct RequestLogHandlerTests {
    @Test func metadataSetOnTheLoggerReachesWhatIsLoggedAndLoggedMetadataWins() {
        let captured = Captured()
        let base = CapturingHandler(captured: captured)
        var logger = Logger(label: "test") { _ in RequestLogHandler(wrapping: base) }
        logger.logLevel = .warning
        logger[metadataKey: "hb.request.id"] = "42"
        logger[metadataKey: "route"] = "/v1/events"
        logger.info("below the level")
        logger.warning("slow", metadata: ["route": "/v1/metrics"])
        let events = captured.events.withLock { $0 }
        #expect(events.count == 1)
        #expect(events.first?.message.description == "slow")
        #expect(events.first?.level == .warning)
        #expect(events.first?.metadata?["hb.request.id"] == "42")
        #expect(events.first?.metadata?["route"] == "/v1/metrics")
        #expect(logger[metadataKey: "route"] == "/v1/events")
    }

    @Test func eachCopyKeepsItsOwnMetadata() {
        let captured = Captured()
        var first = Logger(label: "test") { _ in RequestLogHandler(wrapping: CapturingHandler(captured: captured)) }
        first[metadataKey: "hb.request.id"] = "1"
        var second = first
        second[metadataKey: "hb.request.id"] = "2"
        first.error("a")
        second.error("b")
        let ids = captured.events.withLock { $0.map { $0.metadata?["hb.request.id"]?.description } }
        #expect(ids == ["1", "2"])
    }
}
