import RefLedgerCore

/// Renders a query body as JSON (exactly the HTTP body), CSV (RFC 4180) or an aligned table.
enum QueryRenderer {
    static func render(_ body: JSONObject, kind: Query.Kind, format: QueryFormat) -> String {
        switch format {
        case .json:
            return String(decoding: ResponseJSON.encode(.object(body)), as: UTF8.self) + "\n"
        case .csv:
            let (header, rows) = table(body, kind: kind)
            return ([header] + rows).map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        case .table:
            let (header, rows) = table(body, kind: kind)
            if case .leaderboard = kind { return aligned([header] + rows) }
            // One record: one line per field reads best.
            return aligned(zip(header, rows.first ?? []).map { [$0, $1] })
        }
    }

    /// Header and rows: leaderboards have a row per participant, the rest one row with nested
    /// objects flattened as `balance.pending`.
    static func table(_ body: JSONObject, kind: Query.Kind) -> ([String], [[String]]) {
        if case .leaderboard = kind {
            let header = ["rank", "participant", "code", "referees", "rewards"]
            guard case .array(let rows)? = body["rows"] else { return (header, []) }
            return (
                header,
                rows.enumerated().map { index, row in
                    let object = row.objectValue ?? JSONObject()
                    return [String(index + 1)] + header.dropFirst().map { text(object[$0]) }
                }
            )
        }
        var header: [String] = []
        var row: [String] = []
        for (key, value) in body {
            if case .object(let nested) = value {
                for (inner, innerValue) in nested {
                    header.append(key + "." + inner)
                    row.append(text(innerValue))
                }
            } else {
                header.append(key)
                row.append(text(value))
            }
        }
        return (header, [row])
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let string)?: string
        case .integer(let integer)?: String(integer)
        case .number(let literal)?: literal
        case .bool(let flag)?: flag ? "true" : "false"
        case .null?, nil, .invalidNumber?: ""
        case .object?, .array?: String(decoding: ResponseJSON.encode(value!), as: UTF8.self)
        }
    }

    static func csvField(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func aligned(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                let numeric = !cell.isEmpty && cell.allSatisfy { $0.isNumber || $0 == "." || $0 == "-" }
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return index == row.count - 1 && !numeric ? cell : (numeric ? pad + cell : cell + pad)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
