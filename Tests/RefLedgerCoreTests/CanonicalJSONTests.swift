import RefLedgerCore
import Testing

@Suite struct CanonicalJSONTests {
    @Test func sortsKeysAndEscapesMinimally() throws {
        let value = try JSONParser.parse(
            Array(#"{ "b": 1, "a": "x\"\\\n\u0001é\u2028/", "c": {"z": true, "y": [1, 2]} }"#.utf8)
        )
        let text = String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
        #expect(text == "{\"a\":\"x\\\"\\\\\\n\\u0001é\u{2028}/\",\"b\":1,\"c\":{\"y\":[1,2],\"z\":true}}")
    }

    @Test func roundTripsTimes() {
        let cases = [
            ("2026-11-22T10:00:00Z", "2026-11-22T10:00:00.000Z"),
            ("2026-11-22T10:00:00.1Z", "2026-11-22T10:00:00.100Z"),
            ("2026-11-22T10:00:00.12z", "2026-11-22T10:00:00.120Z"),
            ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"),
            ("2024-02-29T23:59:59.999-00:01", "2024-03-01T00:00:59.999Z"),
            ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
        ]
        for (input, expected) in cases {
            #expect(Timestamp(rfc3339: input)?.description == expected, "\(input)")
        }
        for bad in [
            "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:00:60Z",
            "2026-11-22T10:00:00+24:00", "2026-11-22T10:00:00.Z", "0000-01-01T00:00:00+00:01", "2026-11-22",
        ] {
            #expect(Timestamp(rfc3339: bad) == nil, "\(bad)")
        }
    }

    @Test func storedEventsKeepOnlyClientFieldsForIdempotency() throws {
        let fact = try FactDecoder.decode(
            Array(#"{"id":"s1","type":"signup","program":"p","time":"2026-11-22T10:00:00Z","participant":"u1"}"#.utf8),
            now: Timestamp(rfc3339: "2026-11-22T10:00:00Z")!
        )
        var stored = StoredEvent(fact: fact, seq: 7, recordedAt: Timestamp(millisecondsSinceEpoch: 0))
        stored.fields["code"] = .string("ABCDEFGH")
        stored.fields["code_assigned"] = .bool(true)
        stored.fields["attribution"] = .string("none")
        #expect(stored.clientFields == fact.clientFields)
        let reparsed = try StoredEvent(parsing: stored.canonicalBody())
        #expect(reparsed == stored)
        #expect(
            String(decoding: stored.canonicalBody(), as: UTF8.self).hasPrefix(
                #"{"attribution":"none","code":"ABCDEFGH","code_assigned":true,"id":"s1""#
            )
        )
    }
}

@Suite struct CanonicalKeyOrderTests {
    @Test func keysSortByUTF16CodeUnits() {
        #expect(CanonicalJSON.keyPrecedes("a", "b"))
        #expect(CanonicalJSON.keyPrecedes("ab", "abc"))
        #expect(!CanonicalJSON.keyPrecedes("abc", "ab"))
        #expect(CanonicalJSON.keyPrecedes("Z", "a"))
        // RFC 8785's example: U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16.
        #expect(CanonicalJSON.keyPrecedes("\u{1F600}", "\u{FB33}"))
        #expect(!CanonicalJSON.keyPrecedes("\u{FB33}", "\u{1F600}"))
        #expect(CanonicalJSON.keyPrecedes("\u{00E9}", "\u{1F600}"))
    }
}
