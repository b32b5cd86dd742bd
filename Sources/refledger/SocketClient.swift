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
        if case .object(let object)? = try? JSONParser.parseAnswer(response.body),
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
