import Foundation
import RefLedgerCore
import Testing

/// Runs every example of `schemas/examples` through the Swift decoder and through Python's
/// `jsonschema` (tools/schema-check), and fails where they disagree with each other or with
/// `expected.json`.
@Suite struct SchemaExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let examples = root.appendingPathComponent("schemas/examples")
    static let now = Timestamp(rfc3339: "2026-11-22T12:00:00Z")!

    struct Expectation: Decodable {
        var code: String
        var field: String?
        var schema_gap: String?
    }

    static func schemaVerdicts() throws -> [String: Bool] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("tools/schema-check").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return object?["fact"] as? [String: Bool] ?? [:]
    }

    static func decode(_ name: String) throws -> Result<Fact, LedgerError> {
        let bytes = try [UInt8](Data(contentsOf: examples.appendingPathComponent(name)))
        do {
            return .success(try FactDecoder.decode(bytes, now: now))
        } catch {
            return .failure(error)
        }
    }

    @Test func validExamplesDecodeAndTheSchemaAccepts() throws {
        let verdicts = try Self.schemaVerdicts()
        let names = try FileManager.default.contentsOfDirectory(
            atPath: Self.examples.appendingPathComponent("valid").path
        )
        .filter { $0.hasSuffix(".json") }.sorted()
        #expect(names.count >= 9)
        for name in names {
            #expect(verdicts["valid/" + name] == true, "schema rejects valid/\(name)")
            if case .failure(let error) = try Self.decode("valid/" + name) {
                Issue.record("decoder rejects valid/\(name): \(error)")
            }
        }
    }

    @Test func invalidExamplesFailWithTheExpectedCodeAndField() throws {
        let verdicts = try Self.schemaVerdicts()
        let data = try Data(contentsOf: Self.examples.appendingPathComponent("invalid/expected.json"))
        let expected = try JSONDecoder().decode([String: Expectation].self, from: data)
        #expect(expected.count >= 8)
        var codes = Set<String>()
        for (name, expectation) in expected.sorted(by: { $0.key < $1.key }) {
            codes.insert(expectation.code)
            // The schema rejects what it can judge, and accepts only its documented gaps.
            #expect(verdicts["invalid/" + name] == (expectation.schema_gap != nil), "schema verdict on invalid/\(name)")
            switch try Self.decode("invalid/" + name) {
            case .success:
                Issue.record("decoder accepts invalid/\(name)")
            case .failure(let error):
                #expect(error.code.rawValue == expectation.code, "code of invalid/\(name): \(error)")
                #expect(error.field == expectation.field, "field of invalid/\(name): \(error)")
            }
        }
        let decodingCodes: Set<ErrorCode> = [
            .badJSON, .unknownField, .missingField, .badValue, .unknownType, .derivedType, .futureTime, .tooLarge,
        ]
        #expect(codes == Set(decodingCodes.map(\.rawValue)))
    }
}
