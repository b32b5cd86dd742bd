import Foundation
import RefLedgerCore
import RefLedgerServer

/// The CLI's side of the daemon's socket: GET a JSON answer, turn error bodies into the same
/// messages the offline commands print, and read answer bodies back into `JSONObject`s.
enum SocketClient {
    /// GETs `path` with `parameters` and returns the JSON body of a 200 answer.
    ///
    /// - Throws: ``CommandFailure`` with `code: message` for an error answer (as the offline
    ///   query prints it), or the connection failure.
    static func getJSON(socket: String, path: String, parameters: [(String, String)] = []) throws -> [UInt8] {
        let query = parameters.map { QueryString.encode($0.0) + "=" + QueryString.encode($0.1) }.joined(separator: "&")
        let target = query.isEmpty ? path : path + "?" + query
        let client = UnixHTTPClient(socketPath: socket)
        let response: UnixHTTPClient.Response
        do {
            response = try client.request("GET", target)
        } catch {
            throw CommandFailure(error.description)
        }
        guard response.status == 200 else { throw failure(response) }
        return response.body
    }

    /// The failure an error answer describes: `code: message`, or the status and body.
    static func failure(_ response: UnixHTTPClient.Response) -> CommandFailure {
        if case .object(let object)? = try? ResponseParser.parse(response.body),
            case .object(let error)? = object["error"],
            let code = error["code"]?.stringValue, let message = error["message"]?.stringValue
        {
            return CommandFailure("\(code): \(message)")
        }
        return CommandFailure("the daemon answered \(response.status): \(response.text)")
    }

    /// One path segment, percent-encoded.
    static func segment(_ text: String) -> String { QueryString.encode(text) }
}

/// A JSON reader for the daemon's answers: unlike the strict fact parser it keeps every
/// number (fractions, negatives) as written, and members in order, so that an answer renders
/// exactly as the offline query renders the same body.
enum ResponseParser {
    struct Malformed: Error {}

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = State(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == bytes.count else { throw Malformed() }
        return value
    }

    private struct State {
        let bytes: [UInt8]
        var position = 0

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 64 else { throw Malformed() }
            skipSpace()
            guard position < bytes.count else { throw Malformed() }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var members: [(String, JSONValue)] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .object(JSONObject(members))
                }
                while true {
                    skipSpace()
                    guard case .string(let key) = try value(depth: depth + 1) else { throw Malformed() }
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    if try separator(closing: UInt8(ascii: "}")) { return .object(JSONObject(members)) }
                }
            case UInt8(ascii: "["):
                position += 1
                var elements: [JSONValue] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return .array(elements)
                }
                while true {
                    elements.append(try value(depth: depth + 1))
                    skipSpace()
                    if try separator(closing: UInt8(ascii: "]")) { return .array(elements) }
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default: return try number()
            }
        }

        /// After a member or element: `,` (false) or the closing bracket (true).
        mutating func separator(closing: UInt8) throws -> Bool {
            guard position < bytes.count else { throw Malformed() }
            let byte = bytes[position]
            position += 1
            if byte == closing { return true }
            guard byte == UInt8(ascii: ",") else { throw Malformed() }
            return false
        }

        mutating func expect(_ byte: UInt8) throws {
            guard position < bytes.count, bytes[position] == byte else { throw Malformed() }
            position += 1
        }

        mutating func literal(_ text: String) throws {
            for byte in text.utf8 { try expect(byte) }
        }

        mutating func number() throws -> JSONValue {
            let start = position
            while position < bytes.count, "+-.eE0123456789".utf8.contains(bytes[position]) { position += 1 }
            guard position > start else { throw Malformed() }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            if let integer = Int64(text) { return .integer(integer) }
            guard Double(text) != nil else { throw Malformed() }
            return .number(text)
        }

        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            var output: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: output, as: UTF8.self) }
                guard byte == UInt8(ascii: "\\") else {
                    output.append(byte)
                    continue
                }
                guard position < bytes.count else { throw Malformed() }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        try literal("\\u")
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Malformed() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Malformed() }
                    output.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: output.append(escape)
                }
            }
            throw Malformed()
        }

        mutating func hex4() throws -> UInt32 {
            guard position + 4 <= bytes.count,
                let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
            else { throw Malformed() }
            position += 4
            return value
        }
    }
}
