import Foundation
import Testing

@testable import RefLedgerStore

@Suite struct JSONMembersTests {
    private func insert(_ key: String, _ value: String, into body: String) throws -> String {
        String(decoding: try JSONMembers.inserting(key: key, value: value, into: Array(body.utf8)), as: UTF8.self)
    }

    @Test func insertsFirstMiddleAndLast() throws {
        #expect(try insert("a", "v", into: #"{"id":"e1","seq":5}"#) == #"{"a":"v","id":"e1","seq":5}"#)
        #expect(
            try insert("prev", "00", into: #"{"id":"e1","program":"p","seq":5}"#)
                == #"{"id":"e1","prev":"00","program":"p","seq":5}"#
        )
        #expect(try insert("zz", "v", into: #"{"id":"e1","seq":5}"#) == #"{"id":"e1","seq":5,"zz":"v"}"#)
        #expect(try insert("only", "v", into: "{}") == #"{"only":"v"}"#)
    }

    @Test func walksOverNestedValuesAndEscapedStrings() throws {
        let body =
            #"{"a":{"prev":"x","zz":[1,{"q":"}"}]},"b":"has \"prev\": and } and \\","c":[true,false,null,-1.5e3],"#
            + #""d":"\u00e9","q":{"deep":{"deeper":[[[]]]}},"z":1}"#
        let expected =
            #"{"a":{"prev":"x","zz":[1,{"q":"}"}]},"b":"has \"prev\": and } and \\","c":[true,false,null,-1.5e3],"#
            + #""d":"\u00e9","prev":"v","q":{"deep":{"deeper":[[[]]]}},"z":1}"#
        #expect(try insert("prev", "v", into: body) == expected)
    }

    @Test func comparesKeysByDecodedUTF16() throws {
        // "\u0061" is "a", so "b" sorts after it; "é" (U+00E9) sorts after every ASCII key.
        #expect(try insert("b", "v", into: #"{"\u0061":1,"é":2}"#) == #"{"\u0061":1,"b":"v","é":2}"#)
        #expect(throws: JSONMembers.Malformed.self) { try insert("a", "v", into: #"{"\u0061":1}"#) }
    }

    @Test func escapesInsertedValues() throws {
        #expect(try insert("k", "a\"b\\c\n\u{1}", into: "{}") == #"{"k":"a\"b\\c\n\u0001"}"#)
    }

    @Test func toleratesWhitespace() throws {
        #expect(try insert("m", "v", into: #" { "a" : 1 , "z" : 2 } "#) == #" { "a" : 1 , "m":"v","z" : 2 } "#)
    }

    @Test(arguments: [
        #"{"a":1"#, #"["a"]"#, #"{"a":1}x"#, #"{"a" 1}"#, #"{"a":tru}"#, #"{"a":"x}"#, #"{"a":[1}"#,
        #"{"prev":1}"#, "", #"{"a":{"b":1]}"#, #"{"a":"\#u{1}"}"#,
    ])
    func rejectsMalformedBodiesAndDuplicates(body: String) {
        #expect(throws: JSONMembers.Malformed.self) { try insert("prev", "v", into: body) }
    }

    /// A closing quote, an escape or a control byte at any position of any string up to 24
    /// bytes stops the string skip there.
    @Test func findsStopsAtEveryPositionOfAString() throws {
        for length in 0...24 {
            for position in 0...length {
                let head = String(repeating: "x", count: position)
                let tail = String(repeating: "y", count: length - position)
                for special in [#"\""#, #"\\"#, #"\u0022"#, "é", "😀", ""] {
                    let value = head + special + tail
                    let body = #"{"a":""# + value + #"","q":""# + tail + #"","z":1}"#
                    let expected = #"{"a":""# + value + #"","prev":"v","q":""# + tail + #"","z":1}"#
                    #expect(try insert("prev", "v", into: body) == expected, "value \(value)")
                }
                let control = #"{"a":""# + head + "\u{1}" + tail + #""}"#
                #expect(throws: JSONMembers.Malformed.self, "control byte at \(position)") {
                    try insert("prev", "v", into: control)
                }
                let unterminated = #"{"a":""# + head + tail
                #expect(throws: JSONMembers.Malformed.self) { try insert("prev", "v", into: unterminated) }
            }
        }
    }

    @Test func boundsNestingDepth() {
        let deep = #"{"a":"# + String(repeating: "[", count: 65) + String(repeating: "]", count: 65) + "}"
        #expect(throws: JSONMembers.Malformed.self) { try insert("b", "v", into: deep) }
        let fine = #"{"a":"# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}"
        #expect(throws: Never.self) { try insert("b", "v", into: fine) }
    }
}

@Suite struct ChainTests {
    @Test func hashMatchesTheSpecFormulaComputedByHand() throws {
        let body = Array(#"{"id":"e1","program":"p","seq":1,"type":"invite"}"#.utf8)
        let hash = try Chain.hash(prevHex: Chain.genesisHex, bodyWithoutPrevAndHash: body)
        // SHA-256 of: 64 zeros, "\n", {"id":"e1","prev":"000…","program":"p","seq":1,"type":"invite"}
        let preimage =
            Chain.genesisHex + "\n" + #"{"id":"e1","prev":""# + Chain.genesisHex
            + #"","program":"p","seq":1,"type":"invite"}"#
        #expect(Chain.hex(hash) == sha256Hex(Array(preimage.utf8)))
        #expect(try Chain.hash(prevHash: Chain.genesisHash, bodyWithoutPrevAndHash: body) == hash)
        let full = try Chain.fullEvent(bodyWithoutPrevAndHash: body, prevHash: Chain.genesisHash, hash: hash)
        #expect(
            String(decoding: full, as: UTF8.self)
                == #"{"hash":""# + Chain.hex(hash) + #"","id":"e1","prev":""# + Chain.genesisHex
                + #"","program":"p","seq":1,"type":"invite"}"#
        )
    }

    @Test func hexRoundTrips() {
        let bytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xAB, 0xFF]
        #expect(Chain.hex(bytes) == "00017f80abff")
        #expect(Chain.bytes(fromHex: "00017f80abff") == bytes)
        #expect(Chain.bytes(fromHex: "0g") == nil)
        #expect(Chain.bytes(fromHex: "abc") == nil)
    }

    @Test func rejectsBadPrevAndBodies() {
        #expect(throws: StoreError.self) { try Chain.hash(prevHex: "00", bodyWithoutPrevAndHash: Array("{}".utf8)) }
        #expect(throws: StoreError.self) {
            try Chain.hash(prevHex: String(repeating: "A", count: 64), bodyWithoutPrevAndHash: Array("{}".utf8))
        }
        #expect(throws: StoreError.self) {
            try Chain.hash(prevHex: Chain.genesisHex, bodyWithoutPrevAndHash: Array(#"{"prev":"x"}"#.utf8))
        }
    }
}

/// SHA-256 computed by `sha256sum`, independent of the code under test.
func sha256Hex(_ bytes: [UInt8]) -> String {
    guard let result = try? run("/usr/bin/sha256sum", [], input: Data(bytes)), result.status == 0 else {
        return "sha256sum failed"
    }
    return String(decoding: result.output.prefix(64), as: UTF8.self)
}
