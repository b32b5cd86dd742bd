import Foundation
import RefLedgerCore
import Testing

/// A fact decoded from bytes has its stored body written straight from those bytes; it must be
/// byte for byte what the general encoder writes from the parsed fields.
@Suite struct FlatCanonicalTests {
    static let now = Timestamp(rfc3339: "2026-11-22T12:00:00Z")!

    static let lines = [
        #"{"id":"c1","type":"conversion","program":"shop","time":"2026-11-22T10:00:00.000Z","participant":"u1","order":"o1","amount":1999,"currency":"EUR"}"#,
        // Whitespace everywhere, members out of order, a time to normalize.
        #"  { "time" : "2026-11-22T11:00:00+01:00" ,"type":"invite", "participant":"u1","id":"i1","program":"shop","channel":"email" }  "#,
        // Escapes (the general encoder decides) and raw non-ASCII text.
        #"{"id":"i\u0032","type":"payout_failed","program":"shop","time":"2026-11-22T10:00:00Z","payout":"x","reason":"a\"b\n"}"#,
        #"{"id":"f3","type":"payout_failed","program":"shop","time":"2026-11-22T10:00:00.5Z","payout":"x","reason":"Zoë ✓ 😀"}"#,
        #"{"id":"r1","type":"refund","program":"shop","time":"2026-11-22T10:00:00Z","order":"o1","amount":1}"#,
        #"{"id":"s1","type":"signup","program":"shop","time":"2026-11-22T10:00:00Z","participant":"u2","referrer_code":"ABC","visitor":"v1"}"#,
        #"{"id":"k1","type":"click","program":"shop","time":"2026-11-22T10:00:00Z","code":"ABC","visitor":"v9"}"#,
        // An escaped key, and (apart) an escaped last value: either makes the fact not plain.
        #"{"\u0069d":"k2","type":"click","program":"shop","time":"2026-11-22T10:00:00Z","code":"ABC","visitor":"v9"}"#,
        #"{"id":"k3","type":"click","program":"shop","time":"2026-11-22T10:00:00Z","code":"ABC","visitor":"v\u0039"}"#,
    ]

    /// Every valid example of `schemas/examples/valid`, one per line of the file.
    static let examples: [String] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/examples/valid")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().compactMap { name in
            try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        }
    }()

    @Test func everyValidExampleIsCovered() { #expect(Self.examples.count > 20) }

    @Test(arguments: lines + examples)
    func writtenBodyEqualsGeneralEncoding(line: String) throws {
        let fact = try FactDecoder.decode(Array(line.utf8), now: Self.now)
        for seq: UInt64 in [1, 9, 10, 123_456_789] {
            let stored = StoredEvent(fact: fact, seq: seq, recordedAt: Self.now)
            let general = CanonicalJSON.encode(stored.fields)
            #expect(
                stored.canonicalBody() == general,
                "\(String(decoding: stored.canonicalBody(), as: UTF8.self)) != \(String(decoding: general, as: UTF8.self))"
            )
        }
    }

    /// How a fact was written (escapes or not, so fast path or not) is not part of its value.
    @Test func equalityIgnoresHowTheBodyIsWritten() throws {
        let plain = try FactDecoder.decode(Array(Self.lines[4].utf8), now: Self.now)
        let escaped = try FactDecoder.decode(
            Array(Self.lines[4].replacingOccurrences(of: #""o1""#, with: #""\u006f1""#).utf8),
            now: Self.now
        )
        #expect(plain == escaped)
        #expect(plain.hashValue == escaped.hashValue)
        let storedPlain = StoredEvent(fact: plain, seq: 5, recordedAt: Self.now)
        let storedEscaped = StoredEvent(fact: escaped, seq: 5, recordedAt: Self.now)
        #expect(storedPlain == storedEscaped)
        #expect(storedPlain.canonicalBody() == storedEscaped.canonicalBody())
    }

    /// A signup's decisions (code, code_assigned, attribution, referrer, self_referrer) are
    /// inserted into the body written from the posted bytes, in key order.
    @Test func signupDecisionsAreInsertedInKeyOrder() throws {
        var harness = LedgerHarness()
        let signups = [
            #"{"type":"program","program":"p","time":"2026-01-01T00:00:00Z","rules":{"currency":"EUR","referrer_reward":{"fixed":100},"trigger":"signup"}}"#,
            // Assigned code, no referrer.
            #"{"type":"signup","program":"p","time":"2026-01-01T00:00:01Z","participant":"a","visitor":"va"}"#,
            // A given code (already among the posted fields).
            #"{"type":"signup","program":"p","time":"2026-01-01T00:00:02Z","participant":"b","code":"BEE","visitor":"vb"}"#,
            // Referred by code: a referrer, and a reward derived.
            #"{"type":"signup","program":"p","time":"2026-01-01T00:00:03Z","participant":"c","referrer_code":"bee"}"#,
            // Self-referral, and an unknown code.
            #"{"type":"signup","program":"p","time":"2026-01-01T00:00:04Z","participant":"d","referrer_code":"BEE","visitor":"vb"}"#,
            #"{"type":"signup","program":"p","time":"2026-01-01T00:00:05Z","participant":"e","referrer_code":"nope"}"#,
        ]
        for line in signups {
            let stored = try harness.post(line).get()
            for event in stored {
                let general = CanonicalJSON.encode(event.fields)
                #expect(
                    event.canonicalBody() == general,
                    "\(String(decoding: event.canonicalBody(), as: UTF8.self)) != \(String(decoding: general, as: UTF8.self))"
                )
            }
        }
        let decided = harness.events.filter { $0.type == "signup" }.map {
            String(decoding: $0.canonicalBody(), as: UTF8.self)
        }
        #expect(decided[0].contains(#""code_assigned":true"#))
        #expect(decided[1].contains(#""code":"BEE""#) && !decided[1].contains("code_assigned"))
        #expect(decided[2].contains(#""attribution":"referrer_code""#) && decided[2].contains(#""referrer":"b""#))
        #expect(decided[3].contains(#""self_referrer":"b""#))
        #expect(decided[4].contains(#""attribution":"unknown_code""#))
    }

    @Test func changedFieldsAreEncodedAgain() throws {
        let fact = try FactDecoder.decode(Array(Self.lines[6].utf8), now: Self.now)
        var stored = StoredEvent(fact: fact, seq: 3, recordedAt: Self.now)
        stored.fields["attribution"] = .string("unknown_code")
        let body = String(decoding: stored.canonicalBody(), as: UTF8.self)
        #expect(body.contains(#""attribution":"unknown_code""#))
        #expect(stored.canonicalBody() == CanonicalJSON.encode(stored.fields))
    }
}
