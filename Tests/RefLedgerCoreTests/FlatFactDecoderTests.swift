import Foundation
import RefLedgerTestSupport
import Testing

@testable import RefLedgerCore

/// The one-pass decoder of the common fact may only ever be faster than the general path:
/// where it decodes a fact, the general path decodes the same fact (fields, their order,
/// payload, stored body); everything else it leaves to the general path. It must also take
/// most valid facts, or it is no fast path.
@Suite struct FlatFactDecoderTests {
    static let now = Timestamp(rfc3339: "2026-11-22T12:00:00Z")!

    /// What each path makes of `line`: the fast path's fact, if it took the line, and the
    /// general path's fact or error.
    static func bothPaths(_ line: [UInt8]) -> (flat: Fact?, general: Result<Fact, LedgerError>) {
        line.withUnsafeBytes { bytes in
            withUnsafeTemporaryAllocation(of: FlatCanonical.Member.self, capacity: FlatCanonical.maxMembers) {
                members in
                let flat = FlatFactDecoder.decode(bytes, now: now, records: members)
                let general = Result { () throws(LedgerError) in
                    try FactDecoder.decodeGeneral(bytes, now: now, members: members)
                }
                return (flat, general)
            }
        }
    }

    /// Checks that the fast path, where it took `line`, agrees with the general path;
    /// whether it took it.
    @discardableResult
    static func expectAgreement(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        expectAgreement(Array(line.utf8), sourceLocation: sourceLocation)
    }

    @discardableResult
    static func expectAgreement(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let line = String(decoding: bytes, as: UTF8.self)
        let (flat, general) = bothPaths(bytes)
        guard let flat else { return false }
        guard case .success(let expected) = general else {
            Issue.record("fast path took a line the general path refuses: \(line)", sourceLocation: sourceLocation)
            return true
        }
        #expect(flat == expected, "\(line)", sourceLocation: sourceLocation)
        #expect(flat.clientFields.keys == expected.clientFields.keys, "\(line)", sourceLocation: sourceLocation)
        for seq: UInt64 in [1, 42] {
            let written = StoredEvent(fact: flat, seq: seq, recordedAt: now).canonicalBody()
            let general = CanonicalJSON.encode(StoredEvent(fact: expected, seq: seq, recordedAt: now).fields)
            #expect(written == general, "\(line)", sourceLocation: sourceLocation)
        }
        return true
    }

    @Test(arguments: [UInt64(1), 7, 99])
    func generatedStreamsDecodeAlike(seed: UInt64) {
        var generator = TrafficGenerator(.init(seed: seed, factCount: 6_000, programs: 3, invalidRate: 0.1))
        var valid = 0
        var taken = 0
        while let line = generator.next() {
            if Self.expectAgreement(line.text) { taken += 1 }
            if case .success = Self.bothPaths(Array(line.text.utf8)).general { valid += 1 }
        }
        // Program facts (nested rules) and facts with escapes or non-ASCII text go the
        // general way; nearly everything else must not.
        #expect(taken > valid * 9 / 10, "fast path took \(taken) of \(valid) valid lines")
    }

    /// Lines a step away from a valid one: the fast path refuses or agrees, never differs.
    @Test func nearMissesDecodeAlike() {
        let base =
            #"{"id":"c1","type":"conversion","program":"shop","time":"2026-11-22T10:00:00.000Z","participant":"u1","order":"o1","amount":1999,"currency":"EUR"}"#
        #expect(Self.expectAgreement(base))
        let replacements: [(String, String)] = [
            (#""amount":1999"#, #""amount":0"#), (#""amount":1999"#, #""amount":-5"#),
            (#""amount":1999"#, #""amount":1.5"#), (#""amount":1999"#, #""amount":1e3"#),
            (#""amount":1999"#, #""amount":01999"#), (#""amount":1999"#, #""amount":9007199254740991"#),
            (#""amount":1999"#, #""amount":9007199254740992"#), (#""amount":1999"#, #""amount":"1999""#),
            (#""amount":1999"#, #""amount":12345678901234567"#), (#""amount":1999"#, #""amount":true"#),
            (#""EUR""#, #""eur""#), (#""EUR""#, #""EURO""#), (#""EUR""#, #""E\u0055R""#),
            (#""u1""#, #""""#), (#""u1""#, #""u 1""#), (#""u1""#, #""ü1""#),
            (#""u1""#, "\"" + String(repeating: "u", count: 129) + "\""),
            (#""u1""#, "\"" + String(repeating: "u", count: 128) + "\""), (#""u1""#, "17"),
            (#""shop""#, #""Shop""#), (#""c1""#, #""c/1""#), (#""conversion""#, #""reward""#),
            (#""conversion""#, #""conversions""#), (#""conversion""#, #""refund""#),
            (#""2026-11-22T10:00:00.000Z""#, #""2026-11-22T10:00:00Z""#),
            (#""2026-11-22T10:00:00.000Z""#, #""2026-11-22T11:00:00+01:00""#),
            (#""2026-11-22T10:00:00.000Z""#, #""2026-11-22t10:00:00z""#),
            (#""2026-11-22T10:00:00.000Z""#, #""2026-11-22T10:00:60Z""#),
            (#""2026-11-22T10:00:00.000Z""#, #""2026-11-22T12:05:00.001Z""#),
            (#""2026-11-22T10:00:00.000Z""#, #""2026-11-22T12:05:00.000Z""#),
            (#""2026-11-22T10:00:00.000Z""#, #""2026-11-22T10:00:00.1234Z""#),
            (#""2026-11-22T10:00:00.000Z""#, #""2026-02-30T10:00:00Z""#),
            (#""order":"o1","#, ""), (#""order":"o1","#, #""order":"o1","order":"o2","#),
            (#""order":"o1","#, #""order":"o1","note":"x","#), (#""order":"o1","#, #""order":"o1","channel":"email","#),
            (#"{"#, #" { "#), (#","#, " ,\n\t"), (#":"#, " : "), (#"}"#, "} \r\n"), (#"}"#, "}x"), (#"}"#, ""),
            (#""id":"c1","#, ""), (#""id":"c1","#, #""id":"c1","id":"c1","#), (#"{"#, "[{"),
        ]
        for (old, new) in replacements {
            guard let range = base.range(of: old) else {
                Issue.record("no \(old) in the base line")
                continue
            }
            Self.expectAgreement(base.replacingCharacters(in: range, with: new))
        }
    }

    /// Every fact type, with and without its optional fields, in a shape the fast path takes.
    @Test func everyFlatTypeIsTaken() {
        let envelope = #""program":"shop","time":"2026-11-22T10:00:00Z""#
        let lines = [
            #"{"id":"s1","type":"signup",\#(envelope),"participant":"u1"}"#,
            #"{"id":"s2","type":"signup",\#(envelope),"participant":"u2","code":"My-Code_1","referrer_code":"abc","visitor":"v1"}"#,
            #"{"id":"i1","type":"invite",\#(envelope),"participant":"u1","channel":"sms","invitee":"h1"}"#,
            #"{"id":"k1","type":"click",\#(envelope),"code":"abc","visitor":"v1"}"#,
            #"{"id":"k2","type":"click",\#(envelope),"code":"abc","visitor":"v1","channel":"social"}"#,
            #"{"id":"r1","type":"refund",\#(envelope),"order":"o1","amount":1}"#,
            #"{"id":"p1","type":"payout",\#(envelope),"participant":"u1","payout":"p1","amount":500,"currency":"USD"}"#,
            #"{"id":"p2","type":"payout_settled",\#(envelope),"payout":"p1"}"#,
            #"{"id":"p3","type":"payout_failed",\#(envelope),"payout":"p1","reason":"bank said no (code 7)"}"#,
            #"{"id":"p4","type":"payout_failed",\#(envelope),"payout":"p1"}"#,
        ]
        for line in lines { #expect(Self.expectAgreement(line), "not taken: \(line)") }
        // A bad channel, a too-short code: refused here, judged by the general path.
        #expect(!Self.expectAgreement(#"{"id":"k3","type":"click",\#(envelope),"code":"ab","visitor":"v1"}"#))
        #expect(!Self.expectAgreement(#"{"id":"i2","type":"invite",\#(envelope),"participant":"u1","channel":"fax"}"#))
    }

    /// The schema examples, valid and invalid, one per file.
    @Test func schemaExamplesDecodeAlike() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/examples")
        var count = 0
        for folder in ["valid", "invalid"] {
            let directory = root.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                Self.expectAgreement(Array(try Data(contentsOf: directory.appendingPathComponent(name))))
                count += 1
            }
        }
        #expect(count > 200)
    }

    /// The key matcher of the fast path names each member by its exact bytes: every name is
    /// found, and no other key is — not one byte changed anywhere, nor cut, nor extended, nor
    /// in other case.
    @Test func keysMatchTheirMemberExactly() {
        func named(_ key: [UInt8]) -> FactField? { key.withUnsafeBufferPointer { FactField.named($0) } }
        var wrong: [String] = []
        for field in FactField.allCases {
            let name = Array(field.name.utf8)
            if named(name) != field { wrong.append(field.name) }
            var nearMisses = [Array(name.dropLast()), Array(name.dropFirst()), name + [UInt8(ascii: "s")]]
            nearMisses.append(name.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 })
            for index in name.indices {
                var changed = name
                changed[index] ^= 0x01
                nearMisses.append(changed)
            }
            for key in nearMisses where named(key) != FactField.allCases.first(where: { Array($0.name.utf8) == key }) {
                wrong.append(String(decoding: key, as: UTF8.self))
            }
        }
        #expect(wrong.isEmpty, "keys matched wrongly: \(wrong)")
        #expect(named([]) == nil && named(Array("referrer_codes_x".utf8)) == nil)
    }
}
