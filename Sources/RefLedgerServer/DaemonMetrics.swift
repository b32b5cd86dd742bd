import CoreMetrics
import Metrics
import RefLedgerCore
import RefLedgerStore

import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

/// The daemon's Prometheus metrics (`GET /metrics`), made through swift-metrics with a
/// registry of its own (no global bootstrap, so several daemons could share a process).
///
/// - `refledger_events_total{type}`: stored events by type (facts and derived events)
/// - `refledger_rejects_total{code}`: refused facts by §6 error code
/// - `refledger_commit_duration_seconds`: durable commit latency (histogram)
/// - `refledger_commit_facts`: facts per commit (histogram; `_sum / _count` is the mean)
/// - `refledger_queue_facts`: facts waiting for the writer
/// - `refledger_head_seq`: the committed head
/// - `refledger_snapshot_stall_seconds`: how long taking a snapshot held up the writer
///   (histogram; the copy of the ledger, see ``WriterThread``)
/// - `refledger_snapshot_seq`, `refledger_snapshot_bytes`, `refledger_snapshot_state_bytes`,
///   `refledger_snapshot_encode_seconds`, `refledger_snapshot_write_seconds`: the last snapshot
///   written (its seq, stored and uncompressed size, serialization and write transaction times)
/// - `refledger_restore_seconds`, `refledger_restore_snapshot_seq`,
///   `refledger_restore_replayed_events`: how the daemon rebuilt its ledger at start (the
///   snapshot seq is 0 when there was none)
/// - `refledger_asof_queries_total{from}`: queries below the head by the ledger they were
///   answered from: `kept` (one kept at the same seq), `resumed` (a kept one below it, folded
///   on), `snapshot`, `start` (a replay from seq 1); see ``AsOfLedgers``
/// - `refledger_asof_replayed_events_total`: log events those queries replayed
final class DaemonMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let eventsByType: [String: Counter]
    private let rejectsByCode: [ErrorCode: Counter]
    private let otherEvents: Counter
    private let commitDuration: Timer
    private let commitFacts: Recorder
    private let queueFacts: Meter
    private let headSeq: Meter
    private let snapshotStall: Timer
    private let asOfQueries: [AsOfSource: Counter]
    private let asOfReplayedEvents: Counter
    /// The snapshot and restore gauges, by label.
    private let gauges: [String: Meter]
    private static let gaugeLabels = [
        "refledger_snapshot_seq", "refledger_snapshot_bytes", "refledger_snapshot_state_bytes",
        "refledger_snapshot_encode_seconds", "refledger_snapshot_write_seconds", "refledger_restore_seconds",
        "refledger_restore_snapshot_seq", "refledger_restore_replayed_events",
    ]

    init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["refledger_commit_duration_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .seconds(1),
        ]
        factory.durationHistogramBuckets["refledger_snapshot_stall_seconds"] = [
            .milliseconds(1), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        ]
        factory.valueHistogramBuckets["refledger_commit_facts"] = [
            1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 10_000,
        ]
        self.registry = registry
        let types = FactType.allCases.map(\.rawValue) + DerivedType.allCases.map(\.rawValue)
        eventsByType = Dictionary(
            uniqueKeysWithValues: types.map {
                ($0, Counter(label: "refledger_events_total", dimensions: [("type", $0)], factory: factory))
            }
        )
        otherEvents = Counter(label: "refledger_events_total", dimensions: [("type", "other")], factory: factory)
        rejectsByCode = Dictionary(
            uniqueKeysWithValues: ErrorCode.allCases.map {
                ($0, Counter(label: "refledger_rejects_total", dimensions: [("code", $0.rawValue)], factory: factory))
            }
        )
        commitDuration = Timer(label: "refledger_commit_duration_seconds", factory: factory)
        commitFacts = Recorder(label: "refledger_commit_facts", factory: factory)
        queueFacts = Meter(label: "refledger_queue_facts", factory: factory)
        headSeq = Meter(label: "refledger_head_seq", factory: factory)
        snapshotStall = Timer(label: "refledger_snapshot_stall_seconds", factory: factory)
        gauges = Dictionary(uniqueKeysWithValues: Self.gaugeLabels.map { ($0, Meter(label: $0, factory: factory)) })
        asOfQueries = Dictionary(
            uniqueKeysWithValues: AsOfSource.allCases.map {
                (
                    $0,
                    Counter(
                        label: "refledger_asof_queries_total",
                        dimensions: [("from", $0.rawValue)],
                        factory: factory
                    )
                )
            }
        )
        asOfReplayedEvents = Counter(label: "refledger_asof_replayed_events_total", factory: factory)
    }

    /// What a query below the head was answered from.
    enum AsOfSource: String, CaseIterable, Sendable {
        case kept, resumed, snapshot, start
    }

    /// Counts one query below the head; `report` is how its ledger was made, `nil` when a
    /// kept one was at its seq.
    func asOfQuery(_ report: LedgerReplay.RestoreReport?) {
        guard let report else {
            asOfQueries[.kept]?.increment()
            return
        }
        let source: AsOfSource =
            report.resumedFrom != nil ? .resumed : report.snapshotSeq != nil ? .snapshot : .start
        asOfQueries[source]?.increment()
        asOfReplayedEvents.increment(by: Int(clamping: report.replayedEvents))
    }

    /// Counts stored events of `type`.
    func stored(type: String, count: Int = 1) {
        (eventsByType[type] ?? otherEvents).increment(by: count)
    }

    /// Counts one refused fact.
    func rejected(_ code: ErrorCode) { rejectsByCode[code]?.increment() }

    /// Records one commit: how many facts it judged and how long the durable write took.
    func committed(facts: Int, nanoseconds: UInt64, head: UInt64) {
        commitFacts.record(facts)
        commitDuration.recordNanoseconds(Int64(clamping: nanoseconds))
        headSeq.set(Int(clamping: head))
    }

    /// Records how long taking a snapshot held up the writer.
    func snapshotTaken(stallNanoseconds: UInt64) { snapshotStall.recordNanoseconds(Int64(clamping: stallNanoseconds)) }

    /// Records the last snapshot written.
    func snapshotWritten(_ write: EventLog.SnapshotWrite) {
        gauge("refledger_snapshot_seq", Double(write.seq))
        gauge("refledger_snapshot_bytes", Double(write.storedBytes))
        gauge("refledger_snapshot_state_bytes", Double(write.stateBytes))
        gauge("refledger_snapshot_encode_seconds", write.encodeSeconds)
        gauge("refledger_snapshot_write_seconds", write.writeSeconds)
    }

    /// Records how the ledger was rebuilt at start, and the head it starts from.
    func restored(_ report: LedgerReplay.RestoreReport, head: UInt64, seconds: Double) {
        headSeq.set(Int(clamping: head))
        gauge("refledger_restore_seconds", seconds)
        gauge("refledger_restore_snapshot_seq", Double(report.snapshotSeq ?? 0))
        gauge("refledger_restore_replayed_events", Double(report.replayedEvents))
    }

    private func gauge(_ label: String, _ value: Double) {
        assert(gauges[label] != nil, "\(label) is not among gaugeLabels")
        gauges[label]?.set(value)
    }

    /// The number of facts waiting for the writer.
    func queueDepth(_ facts: Int) { queueFacts.set(facts) }

    /// The Prometheus text exposition of every metric.
    func render() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
