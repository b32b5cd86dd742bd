import Foundation

/// Small helpers every benchmark uses: timing, percentiles, option parsing, JSON output.
enum Bench {
    /// Seconds elapsed while running `body`.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// CPU time the calling thread has used, in nanoseconds.
    static func threadCPUNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// CPU seconds process `pid` used so far, user and system, all threads (`utime` and
    /// `stime` of /proc/PID/stat).
    static func cpuSeconds(ofProcess pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        // After the command name: state is field 3, utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// `getrusage(2)` of `who`: `RUSAGE_CHILDREN` (-1) or `RUSAGE_THREAD` (1, which Glibc's
    /// Swift module does not name).
    static func resourceUsage(_ who: Int32) -> rusage {
        var usage = rusage()
        getrusage(__rusage_who_t(who), &usage)
        return usage
    }

    /// CPU seconds, user and system, of the child processes waited for so far.
    static func childrenCPUSeconds() -> Double {
        let usage = resourceUsage(RUSAGE_CHILDREN.rawValue)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Writes the file at `path` to disk now (fsync).
    static func flushToDisk(_ path: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    /// The `refledger` executable beside this one (both are built into the same folder).
    static var refledgerExecutable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
            .appendingPathComponent("refledger")
    }

    /// Nanoseconds now, monotonic.
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The nearest-rank percentile `p` (0–1) of `samples` (sorted in place).
    static func percentile(_ samples: inout [Double], _ p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        samples.sort()
        let rank = max(1, Int((p * Double(samples.count)).rounded(.up)))
        return samples[min(rank, samples.count) - 1]
    }

    /// The integer value of `--name N` in `arguments`, or `fallback` when it is not given.
    ///
    /// - Throws: ``BenchFailure`` when the value is not an integer of at least `minimum`.
    static func option(_ name: String, in arguments: [String], default fallback: Int, minimum: Int) throws -> Int {
        guard let index = arguments.firstIndex(of: "--" + name) else { return fallback }
        guard index + 1 < arguments.count, let value = Int(arguments[index + 1]), value >= minimum else {
            throw BenchFailure(description: "--\(name) takes an integer of at least \(minimum)")
        }
        return value
    }

    /// Resident set size of this process, in bytes (from /proc).
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    /// Page faults the calling thread has taken so far: each a page of memory it touched for
    /// the first time (mapped and zeroed by the kernel), whose cost on this VM varies twentyfold
    /// from one run to the next, so a rate is best read beside how many it took.
    static func threadPageFaults() -> Int {
        let usage = resourceUsage(1)  // RUSAGE_THREAD
        return usage.ru_minflt + usage.ru_majflt
    }

    /// A fresh empty directory for one measurement.
    static func scratchDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "refledger-bench-\(getpid())-" + name
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Prints `object` as pretty, key-sorted JSON on standard output.
    static func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// `value` rounded to `places` decimals (for readable JSON).
    static func round(_ value: Double, _ places: Int = 1) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }

    /// Progress on standard error (the JSON goes to standard output).
    static func note(_ text: String) {
        FileHandle.standardError.write(Data(("bench: " + text + "\n").utf8))
    }
}
