extension JSONMembers {
    /// A cursor over JSON bytes that skips whole tokens and values.
    struct Walker {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        @inline(__always)
        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        @inline(__always)
        mutating func skipWhitespace() {
            while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                position += 1
            }
        }

        @inline(__always)
        mutating func expect(_ byte: UInt8) throws(Malformed) {
            guard peek() == byte else { throw unexpected(byte) }
            position += 1
        }

        @inline(never)
        func unexpected(_ byte: UInt8) -> Malformed {
            Malformed(offset: position, reason: "expected '\(Character(Unicode.Scalar(byte)))'")
        }

        mutating func expectEnd() throws(Malformed) {
            skipWhitespace()
            guard position == bytes.count else { throw Malformed(offset: position, reason: "bytes after the object") }
        }

        /// Skips a string starting at `position` (which must be `"`); returns the range of its
        /// raw contents, between the quotes.
        @inline(__always)
        mutating func skipString() throws(Malformed) -> Range<Int> {
            try expect(UInt8(ascii: "\""))
            let start = position
            var index = position
            let count = bytes.count
            while index < count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    position = index + 1
                    return start..<index
                }
                if byte == UInt8(ascii: "\\") {
                    index += 2
                } else if byte < 0x20 {
                    throw Malformed(offset: index, reason: "control character in a string")
                } else {
                    index += 1
                }
            }
            throw Malformed(offset: start - 1, reason: "unterminated string")
        }

        /// Skips one value of any kind starting at `position`.
        mutating func skipValue() throws(Malformed) {
            guard let byte = peek() else { throw Malformed(offset: position, reason: "missing value") }
            switch byte {
            case UInt8(ascii: "\""):
                _ = try skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                try skipContainer()
            case UInt8(ascii: "t"):
                try skipLiteral("true")
            case UInt8(ascii: "f"):
                try skipLiteral("false")
            case UInt8(ascii: "n"):
                try skipLiteral("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = position
                while let next = peek(), Self.isNumberByte(next) { position += 1 }
                guard position > start else { throw Malformed(offset: start, reason: "bad number") }
            default:
                throw Malformed(offset: position, reason: "unexpected byte \(byte)")
            }
        }

        static func isNumberByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"),
                UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                return true
            default:
                return false
            }
        }

        mutating func skipLiteral(_ literal: StaticString) throws(Malformed) {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw Malformed(offset: position, reason: "bad literal") }
            let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: count)
            for index in 0..<count where bytes[position + index] != expected[index] {
                throw Malformed(offset: position, reason: "bad literal")
            }
            position += count
        }

        /// Skips an object or array with everything nested in it, matching brackets (up to
        /// ``JSONMembers/maxDepth`` deep) and skipping strings whole.
        mutating func skipContainer() throws(Malformed) {
            // One bit per open level: 1 for an object, 0 for an array.
            var kinds: UInt64 = 0
            var depth = 0
            while let byte = peek() {
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard depth < JSONMembers.maxDepth else {
                        throw Malformed(offset: position, reason: "nested too deep")
                    }
                    kinds = kinds << 1 | (byte == UInt8(ascii: "{") ? 1 : 0)
                    depth += 1
                    position += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    let isObject = kinds & 1 == 1
                    guard depth > 0, isObject == (byte == UInt8(ascii: "}")) else {
                        throw Malformed(offset: position, reason: "mismatched bracket")
                    }
                    kinds >>= 1
                    depth -= 1
                    position += 1
                    if depth == 0 { return }
                case UInt8(ascii: "\""):
                    _ = try skipString()
                default:
                    position += 1
                }
            }
            throw Malformed(offset: position, reason: "unterminated object or array")
        }
    }
}
