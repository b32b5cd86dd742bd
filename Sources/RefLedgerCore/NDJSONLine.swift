/// What every NDJSON input shares — a batch posted to the daemon, a file given to `import`.
public enum NDJSONLine {
    /// Whether a line (without its `\n`) is blank: only spaces, tabs and `\r`. Blank lines are
    /// skipped, not judged (SPEC §6), by the daemon and by `import` alike.
    @inlinable
    public static func isBlank(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// Where a line's content ends (its bytes up to the `\n` or the end of the input): before a
    /// final `\r`, which belongs to a CRLF newline and is not part of the line (SPEC §2).
    @inlinable
    public static func contentEnd<Line: BidirectionalCollection<UInt8>>(of line: Line) -> Line.Index {
        guard let last = line.indices.last, line[last] == 0x0D else { return line.endIndex }
        return last
    }
}
