import Foundation
import RefLedgerTestSupport
import Testing

/// The README's daemon quickstart, run as written against a live daemon, so that the
/// README cannot drift from what the daemon does.
///
/// Every command of the first `sh` block under "## The daemon" runs through `/bin/sh` with
/// `S` set to the test daemon's socket (the `refledger serve` line itself is the harness's
/// job). A `# {…}` comment line after a command is its exact expected output; every `curl`
/// must answer without an error body.
@Suite struct ReadmeExamplesTests {
    /// One shell command of the quickstart and the output the README promises, if any.
    struct Example {
        var command: String
        var expected: String?
    }

    static func quickstart() throws -> [Example] {
        let readme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let section = text.range(of: "## The daemon"),
            let open = text.range(of: "```sh\n", range: section.upperBound..<text.endIndex),
            let close = text.range(of: "\n```", range: open.upperBound..<text.endIndex)
        else { throw HarnessError("README.md has no sh block under \"## The daemon\"") }
        var examples: [Example] = []
        var pending = ""
        for line in text[open.upperBound..<close.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            if pending.isEmpty, line.hasPrefix("#") {
                let comment = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if comment.hasPrefix("{"), !examples.isEmpty { examples[examples.count - 1].expected = comment }
                continue
            }
            pending += line + "\n"
            if line.hasSuffix("\\") { continue }
            let command = pending.trimmingCharacters(in: .whitespacesAndNewlines)
            pending = ""
            if !command.isEmpty { examples.append(Example(command: command)) }
        }
        return examples
    }

    @Test func quickstartRunsAsWritten() throws {
        let examples = try Self.quickstart()
        #expect(examples.contains { $0.command.contains("/v1/events") && $0.command.contains("x-ndjson") })
        #expect(examples.contains { $0.command.contains("/v1/digest") })
        let daemon = try DaemonHarness("readme")
        defer { daemon.finish() }
        let work = daemon.directory.appending("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        // `refledger post facts.ndjson` reads a file of the user's: give it one.
        try Data(
            #"{"id":"i1","type":"invite","program":"shop","time":"2026-11-05T00:00:00Z","participant":"alice","channel":"email"}"#
                .utf8 + [0x0A]
        ).write(to: URL(fileURLWithPath: work + "/facts.ndjson"))

        var ran = 0
        for example in examples {
            if example.command.hasPrefix("refledger serve") { continue }
            let script =
                "cd '\(work)' && export PATH='\(productsDirectory)':\"$PATH\" && S='\(daemon.socketPath)' && "
                + (example.command.hasPrefix("S=") ? "true" : example.command)
            let result = try runCommand("/bin/sh", ["-c", script])
            #expect(result.status == 0, "\(example.command)\nexited \(result.status): \(result.stderr)")
            if example.command.contains("curl") {
                #expect(!result.output.contains(#""error""#), "\(example.command)\nanswered \(result.output)")
                #expect(!result.output.isEmpty, "\(example.command) answered nothing")
            }
            if let expected = example.expected {
                #expect(
                    result.output.trimmingCharacters(in: .whitespacesAndNewlines) == expected,
                    "\(example.command)\nanswered \(result.output)"
                )
            }
            ran += 1
        }
        #expect(ran >= 10)

        // What the quickstart stored is what it says: c1 derived alice's 500 and bob's 1000.
        let alice = try runCommand(
            "/bin/sh",
            ["-c", "curl -s --unix-socket '\(daemon.socketPath)' http://localhost/v1/programs/shop/participants/alice"]
        )
        #expect(alice.output.contains(#""pending":500"#) || alice.output.contains(#""earned":500"#), "\(alice.output)")
    }
}
