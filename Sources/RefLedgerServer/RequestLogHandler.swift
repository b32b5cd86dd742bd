public import Logging

/// The log handler of the loggers Hummingbird makes for each request.
///
/// Hummingbird sets a request id in every request's logger metadata. `StreamLogHandler`
/// formats its whole metadata each time a key is set, so that costs every request a
/// formatted string, although the daemon's request loggers log only warnings. This handler
/// keeps the metadata as given and merges it in only into what is actually logged; the
/// wrapped handler writes it.
public struct RequestLogHandler: LogHandler {
    private var wrapped: any LogHandler
    public var metadata: Logger.Metadata = [:]

    /// A handler that logs through `wrapped` (its level is `wrapped`'s).
    public init(wrapping wrapped: any LogHandler) { self.wrapped = wrapped }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.metadata = metadata.merging(event.metadata ?? [:]) { _, logged in logged }
        wrapped.log(event: event)
    }
}
