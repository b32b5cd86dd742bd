import RefLedgerCore
import Testing

/// The parser reads plain runs of a string several bytes a step: whatever the length of a
/// string and wherever in it a special byte falls, the answer must be the byte-by-byte one.
@Suite struct JSONParserTests {
    /// `["<prefix><special><suffix>", 1]` as bytes, the special bytes at every position of
    /// strings up to 24 bytes long.
    static func documents(_ special: [UInt8]) -> [(bytes: [UInt8], text: [UInt8])] {
        (0...24).flatMap { length in
            (0...length).map { position in
                let text =
                    Array(repeating: UInt8(ascii: "a"), count: position) + special
                    + Array(repeating: UInt8(ascii: "z"), count: length - position)
                return (Array(#"[""#.utf8) + text + Array(#"",1]"#.utf8), text)
            }
        }
    }

    @Test func plainAndNonASCIITextIsReadWhole() throws {
        for special in [[], Array("é".utf8), Array("😀".utf8), Array("/".utf8)] {
            for (bytes, text) in Self.documents(special) {
                let value = try JSONParser.parse(bytes)
                #expect(value == .array([.string(String(decoding: text, as: UTF8.self)), .integer(1)]))
            }
        }
    }

    @Test func escapesAreDecodedWherever() throws {
        for (bytes, text) in Self.documents(Array(#"\n\"\\"#.utf8)) {
            let expected = String(decoding: text, as: UTF8.self)
                .replacingOccurrences(#"\n\"\\"#, "\n\"\\")
            #expect(try JSONParser.parse(bytes) == .array([.string(expected), .integer(1)]))
        }
    }

    @Test func invalidUTF8AndControlCharactersAreRefusedWherever() {
        for special: [UInt8] in [[0xFF], [0xC3], [0x80], [0x01], [0x1F], [0x0A], [0xED, 0xA0, 0x80]] {
            for (bytes, _) in Self.documents(special) {
                #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(bytes) }
            }
        }
    }
}

@Suite struct JSONParserDuplicateKeyTests {
    @Test(arguments: [
        #"{"id":1,"id":2}"#, #"{"id":1,"\u0069d":2}"#, #"{"\u0069d":1,"id":2}"#, #"{"\u0069d":1,"i\u0064":2}"#,
        #"{"x-unknown":1,"x-unknown":2}"#, #"{"x-unknown":1,"x-unknow\u006e":2}"#, #"{"a":{"id":1,"type":2,"id":3}}"#,
    ])
    func duplicateKeysAreRefusedHoweverWritten(document: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(Array(document.utf8)) }
    }

    @Test func theSameKeyInAnotherObjectIsNoDuplicate() throws {
        let value = try JSONParser.parse(Array(#"{"rules":{"id":1,"type":2},"id":3,"type":{"id":4}}"#.utf8))
        guard case .object(let object) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(object.keys == ["rules", "id", "type"])
        #expect(object["rules"] == .object(JSONObject([("id", .integer(1)), ("type", .integer(2))])))
    }
}

extension String {
    /// `self` with every `target` replaced by `replacement` (no Foundation in these tests).
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }

    @Test func anAnswerKeepsTheNumbersAFactRefuses() throws {
        let text = Array(#"{"roi":-0.5,"k":0.007813,"sum":9907919180215090100,"e":1e3,"n":7,"z":-0}"#.utf8)
        let expected: [(String, JSONValue)] = [
            ("roi", .number("-0.5")), ("k", .number("0.007813")), ("sum", .number("9907919180215090100")),
            ("e", .number("1e3")), ("n", .integer(7)), ("z", .integer(0)),
        ]
        guard case .object(let answer) = try JSONParser.parseAnswer(text) else {
            Issue.record("not an object")
            return
        }
        #expect(answer.members.map(\.key) == expected.map(\.0))
        #expect(answer.members.map(\.value) == expected.map(\.1))
        guard case .object(let fact) = try JSONParser.parse(text) else {
            Issue.record("not an object")
            return
        }
        #expect(fact["roi"] == .invalidNumber && fact["sum"] == .invalidNumber && fact["e"] == .invalidNumber)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parseAnswer(Array("[1,]".utf8)) }
    }
}
