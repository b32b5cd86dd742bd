/// What every NDJSON input shares — a batch posted to the daemon, a file given to `import`.
public enum NDJSONLine {
    /// Whether a line (without its `\n`) is blank: only spaces, tabs and `\r`. Blank lines are
    /// skipped, not judged (SPEC §6), by the daemon and by `import` alike.
    @inlinable
    public static func isBlank(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
