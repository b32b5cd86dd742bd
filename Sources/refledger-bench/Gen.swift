import Foundation
import RefLedgerTestSupport

/// `refledger-bench gen --seed N --facts N [--programs N] [--invalid-rate R] [--duplicate-rate R]
/// [--backdate-rate R] [--stats]`: the seeded traffic generator's lines as NDJSON on standard
/// output, in large buffered writes. `--stats` adds the count of lines by kind, as JSON, on
/// standard error.
func runGen(arguments: [String]) throws {
    var config = TrafficGenerator.Config(seed: 1, factCount: 1000)
    var stats = false
    var index = 0
    func value(_ name: String) throws -> String {
        index += 1
        guard index < arguments.count else { throw GenUsage("\(name) needs a value") }
        return arguments[index]
    }
    func rate(_ name: String) throws -> Double {
        guard let rate = Double(try value(name)), (0...1).contains(rate) else {
            throw GenUsage("\(name) must be 0 … 1")
        }
        return rate
    }
    while index < arguments.count {
        let name = arguments[index]
        switch name {
        case "--seed":
            guard let seed = UInt64(try value(name)) else { throw GenUsage("--seed must be an integer ≥ 0") }
            config.seed = seed
        case "--facts":
            guard let count = Int(try value(name)), count >= 0 else { throw GenUsage("--facts must be an integer ≥ 0") }
            config.factCount = count
        case "--programs":
            guard let count = Int(try value(name)), count >= 1 else {
                throw GenUsage("--programs must be an integer ≥ 1")
            }
            config.programs = count
        case "--invalid-rate": config.invalidRate = try rate(name)
        case "--duplicate-rate": config.duplicateRate = try rate(name)
        case "--backdate-rate": config.backdateRate = try rate(name)
        case "--stats": stats = true
        case "-h", "--help":
            print(
                "usage: refledger-bench gen --seed N --facts N [--programs N] [--invalid-rate R] "
                    + "[--duplicate-rate R] [--backdate-rate R] [--stats]"
            )
            return
        default: throw GenUsage("unknown option \(name)")
        }
        index += 1
    }

    var generator = TrafficGenerator(config)
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1 << 20 + 80_000)
    while generator.appendNextLine(to: &buffer) != nil {
        buffer.append(0x0A)
        if buffer.count >= 1 << 20 {
            try writeAll(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }
    try writeAll(buffer)
    if stats {
        let counts = generator.lineCounts.map { ($0.key.description, $0.value) }.sorted { $0.0 < $1.0 }
        let body = counts.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
        FileHandle.standardError.write(Data("{\(body)}\n".utf8))
    }
}

/// Writes all of `bytes` to standard output.
private func writeAll(_ bytes: [UInt8]) throws {
    var offset = 0
    try bytes.withUnsafeBytes { raw in
        while offset < raw.count {
            let written = write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw GenUsage("cannot write standard output: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }
}

/// A bad `gen` command line, or a failed write.
struct GenUsage: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
