import Foundation
import RefLedgerStore
import RefLedgerTestSupport
import Testing

@Suite struct ZstdTests {
    @Test func oneShotFramesRoundTripWithAndWithoutADictionary() throws {
        var generator = SeededGenerator(seed: 21)
        let samples = (1...2_000).map { Bodies.body(seq: UInt64($0), using: &generator) }
        let dictionaryBytes = try Zstd.trainDictionary(samples: samples, capacityBytes: 16 << 10)
        #expect(dictionaryBytes.count > 0 && dictionaryBytes.count <= 16 << 10)
        let dictionary = try Zstd.PreparedDictionary(bytes: dictionaryBytes, compressionLevel: 3)
        let plain = try Zstd.Compressor(level: 3)
        let trained = try Zstd.Compressor(level: 3, dictionary: dictionary)
        let decompressor = try Zstd.Decompressor()
        var plainBytes = 0
        var trainedBytes = 0
        for seq in 3_000..<3_200 {
            let body = Bodies.body(seq: UInt64(seq), using: &generator)
            let a = try plain.compress(body)
            let b = try trained.compress(body)
            plainBytes += a.count
            trainedBytes += b.count
            #expect(try decompressor.decompress(a, dictionary: nil, maxOutputBytes: 1 << 20) == body)
            #expect(try decompressor.decompress(b, dictionary: dictionary, maxOutputBytes: 1 << 20) == body)
            #expect(throws: ZstdError.self) { try decompressor.decompress(a, dictionary: nil, maxOutputBytes: 10) }
        }
        #expect(trainedBytes < plainBytes)
        #expect(throws: ZstdError.self) {
            try decompressor.decompress([1, 2, 3, 4, 5], dictionary: nil, maxOutputBytes: 100)
        }
        #expect(throws: ZstdError.self) { try Zstd.trainDictionary(samples: [[1, 2, 3]], capacityBytes: 4096) }
    }

    @Test func streamWriterMakesAFrameZstdCanRead() throws {
        let directory = try TemporaryDirectory("zst")
        defer { directory.remove() }
        let path = directory.appending("out.ndjson.zst")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let writer = try Zstd.StreamWriter(fileDescriptor: handle.fileDescriptor)
        var expected = Data()
        var generator = SeededGenerator(seed: 22)
        for seq in 1...5_000 {
            let line = Bodies.body(seq: UInt64(seq), using: &generator) + [UInt8(ascii: "\n")]
            try writer.write(line)
            expected.append(contentsOf: line)
            if seq == 2_500 { try writer.flush() }
        }
        try writer.finish()
        try handle.close()
        #expect(writer.bytesIn == UInt64(expected.count))
        #expect(writer.bytesOut < writer.bytesIn / 3)
        if commandExists("zstd") {
            let result = try run("/usr/bin/env", ["zstd", "-dc", path])
            #expect(result.status == 0)
            #expect(result.output == expected)
        }
        let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? reader.close() }
        let lines = try LineReader(fileDescriptor: reader.fileDescriptor)
        #expect(lines.isCompressed)
        var count = 0
        var generatorAgain = SeededGenerator(seed: 22)
        while let line = try lines.nextLine() {
            count += 1
            #expect(line == .complete(Bodies.body(seq: UInt64(count), using: &generatorAgain)))
        }
        #expect(count == 5_000)
        #expect(lines.lineNumber == 5_000)
    }

    @Test func lineReaderBoundsLinesInPlainAndCompressedInput() throws {
        let directory = try TemporaryDirectory("lines")
        defer { directory.remove() }
        let long = String(repeating: "x", count: 200_000)
        let text = "first\n\n\(long)\nafter-long\r\nlast-without-newline"
        let plainPath = directory.appending("in.ndjson")
        try Data(text.utf8).write(to: URL(fileURLWithPath: plainPath))
        var paths = [plainPath]
        if commandExists("zstd") {
            // Two frames, as `cat a.zst b.zst` makes: readers must take both.
            let half = text.utf8.count / 2
            try Data(text.utf8.prefix(half)).write(to: URL(fileURLWithPath: directory.appending("a")))
            try Data(text.utf8.dropFirst(half)).write(to: URL(fileURLWithPath: directory.appending("b")))
            let a = try run("/usr/bin/env", ["zstd", "-q", "-c", directory.appending("a")]).output
            let b = try run("/usr/bin/env", ["zstd", "-q", "-c", directory.appending("b")]).output
            try (a + b).write(to: URL(fileURLWithPath: directory.appending("in.ndjson.zst")))
            paths.append(directory.appending("in.ndjson.zst"))
        }
        for path in paths {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            let reader = try LineReader(fileDescriptor: handle.fileDescriptor, maxLineBytes: 65_536)
            #expect(reader.isCompressed == path.hasSuffix(".zst"))
            var lines: [LineReader.Line] = []
            while let line = try reader.nextLine() { lines.append(line) }
            #expect(
                lines == [
                    .complete(Array("first".utf8)), .complete([]), .tooLong(byteCount: 200_000),
                    .complete(Array("after-long".utf8)), .complete(Array("last-without-newline".utf8)),
                ]
            )
            #expect(try reader.nextLine() == nil)
        }
    }

    /// A line is its bytes without its newline, `\n` or `\r\n` alike (as the daemon reads
    /// NDJSON): a line of exactly the limit passes either way, one byte more does not.
    @Test func aCRLFNewlineIsNotCountedTowardTheLimit() throws {
        let directory = try TemporaryDirectory("crlf")
        defer { directory.remove() }
        let limit = 100
        let full = String(repeating: "a", count: limit)
        let text = full + "\r\n" + full + "\n" + full + "b\r\n" + full + "\r"
        let path = directory.appending("in.ndjson")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let reader = try LineReader(fileDescriptor: handle.fileDescriptor, maxLineBytes: limit)
        var lines: [LineReader.Line] = []
        while let line = try reader.nextLine() { lines.append(line) }
        #expect(
            lines == [
                .complete(Array(full.utf8)), .complete(Array(full.utf8)), .tooLong(byteCount: limit + 2),
                .complete(Array(full.utf8)),
            ]
        )
    }

    /// Lines appended to one shared buffer (as `import` reads a run): each adds exactly its own
    /// bytes without the newline; a line over the limit leaves what the buffer held before it
    /// untouched, whether it was dropped while read or found too long at its end.
    @Test func linesAppendedToASharedBufferAddOnlyTheirOwnBytes() throws {
        let directory = try TemporaryDirectory("append")
        defer { directory.remove() }
        let limit = 8
        let text = "one\r\n" + "123456789\n" + "toolongline\r\n" + "\n" + "12345678\r\n" + "last\r"
        let path = directory.appending("in.ndjson")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let reader = try LineReader(fileDescriptor: handle.fileDescriptor, maxLineBytes: limit)
        var buffer = Array("held".utf8)
        var appended: [LineReader.AppendedLine] = []
        var numbers: [Int] = []
        while let line = try reader.appendNextLine(to: &buffer) {
            appended.append(line)
            numbers.append(reader.lineNumber)
        }
        #expect(
            appended == [
                .complete(byteCount: 3), .tooLong(byteCount: 9), .tooLong(byteCount: 12), .complete(byteCount: 0),
                .complete(byteCount: 8), .complete(byteCount: 4),
            ]
        )
        #expect(numbers == [1, 2, 3, 4, 5, 6])
        #expect(String(decoding: buffer, as: UTF8.self) == "heldone12345678last")
    }
    @Test func truncatedZstdInputIsAnError() throws {
        let directory = try TemporaryDirectory("trunc")
        defer { directory.remove() }
        let path = directory.appending("cut.zst")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let writer = try Zstd.StreamWriter(fileDescriptor: handle.fileDescriptor)
        var generator = SeededGenerator(seed: 23)
        for seq in 1...2_000 { try writer.write(Bodies.body(seq: UInt64(seq), using: &generator) + [10]) }
        try writer.finish()
        try handle.close()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 20).write(to: URL(fileURLWithPath: path))
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? input.close() }
        let reader = try LineReader(fileDescriptor: input.fileDescriptor)
        let error = #expect(throws: StoreError.self) { while try reader.nextLine() != nil {} }
        #expect(error?.code == .corrupted)
    }
}

@Suite struct LMDBWrapperTests {
    @Test func appendOutOfOrderIsRefusedAndCursorsIterate() throws {
        let directory = try TemporaryDirectory("lmdb")
        defer { directory.remove() }
        let environment = try LMDB.Environment(path: directory.path, flags: [.noThreadLocalStorage], maxDatabases: 4)
        defer { environment.close() }
        let txn = try environment.beginTransaction(readOnly: false)
        let database = try txn.openDatabase("t", create: true)
        func key(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        for value in [UInt64(1), 2, 5] { try txn.put(database, key: key(value), value: [UInt8(value)], flags: .append) }
        #expect(throws: LMDBError.keyExists) { try txn.put(database, key: key(3), value: [3], flags: .append) }
        #expect(throws: LMDBError.keyExists) { try txn.put(database, key: key(5), value: [5], flags: .append) }
        #expect(throws: LMDBError.keyExists) { try txn.put(database, key: key(1), value: [9], flags: .noOverwrite) }
        try txn.commit()
        #expect(throws: LMDBError.badTransaction) { try txn.get(database, key: key(1)) }

        let read = try environment.beginTransaction(readOnly: true)
        defer { read.abort() }
        #expect(try read.get(database, key: key(2)) == [2])
        #expect(try read.get(database, key: key(3)) == nil)
        let cursor = try read.openCursor(database)
        defer { cursor.close() }
        var seen: [UInt8] = []
        var entry = try cursor.seek(atLeast: key(2))
        while let current = entry {
            seen.append(current.value[0])
            entry = try cursor.next()
        }
        #expect(seen == [2, 5])
        #expect(try read.stat(database).entries == 3)
        #expect(LMDBError.mapFull.message.contains("MDB_MAP_FULL"))
        #expect(LMDBError.noSpace.isOutOfSpace)
    }
}
