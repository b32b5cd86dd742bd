/// An array that, once large, grows by adding chunks rather than by copying itself: what a
/// ``KeyedTable`` keeps its keys and values in.
///
/// An `Array` grows by moving every element into a buffer twice as large, and a ledger's
/// tables only grow: a program's participants (~250 bytes each) are copied again at every
/// doubling, and each copy writes fresh memory, which the kernel must first map and zero
/// (applying the ledger benchmark's million facts took 56k page faults with arrays, 41k with
/// chunks: only the memory the state holds). Here the first chunk
/// grows as an array does, up to ``chunkCapacity`` elements (~64 KiB); after that each chunk
/// is allocated at its full size and filled in place, and no element is moved again. A read
/// costs one more load (the chunk), which is in cache for every chunk recently used.
///
/// Copies share chunks, and a change copies only the chunk it changes (a snapshot's copy of
/// the ledger costs what the writer changes while it is encoded, not the whole state).
public struct ChunkedArray<Element>: RandomAccessCollection {
    /// log2 of the elements in a full chunk: about 64 KiB of them, at least 256.
    @inline(__always) static var chunkShift: Int {
        let stride = MemoryLayout<Element>.stride
        return stride <= 16 ? 12 : stride <= 64 ? 10 : 8
    }
    @inline(__always) static var chunkCapacity: Int { 1 << chunkShift }
    @inline(__always) static var chunkMask: Int { chunkCapacity - 1 }

    /// Every chunk but the last is full.
    private var chunks: [[Element]] = []
    public private(set) var count = 0

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> Element {
        _read {
            precondition(position >= 0 && position < count, "index out of range")
            yield chunks[position &>> Self.chunkShift][position & Self.chunkMask]
        }
        _modify {
            precondition(position >= 0 && position < count, "index out of range")
            yield &chunks[position &>> Self.chunkShift][position & Self.chunkMask]
        }
    }

    /// Runs `body` on the element at `position`, in place. Unlike the subscript's `_modify`,
    /// whose coroutine frame the caller may have to allocate, a closure costs no allocation.
    public mutating func update<Result, Failure: Error>(
        at position: Int,
        _ body: (inout Element) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        precondition(position >= 0 && position < count, "index out of range")
        return try chunks[position &>> Self.chunkShift].withUnsafeMutableBufferPointer {
            (chunk) throws(Failure) -> Result in try body(&chunk[position & Self.chunkMask])
        }
    }

    public mutating func append(_ element: Element) {
        if chunks.isEmpty || (count > 0 && count & Self.chunkMask == 0) {
            var chunk: [Element] = []
            // The first chunk grows as an array does (a small table stays small); later ones
            // are made full-sized at once.
            if count > 0 { chunk.reserveCapacity(Self.chunkCapacity) }
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    /// Makes room for `capacity` elements: the first chunk up to its full size, and the list
    /// of chunks for the rest (later chunks are still allocated as they are reached).
    public mutating func reserveCapacity(_ capacity: Int) {
        if chunks.isEmpty { chunks.append([]) }
        chunks[0].reserveCapacity(Swift.min(capacity, Self.chunkCapacity))
        chunks.reserveCapacity((capacity + Self.chunkMask) &>> Self.chunkShift)
    }
}

extension ChunkedArray: Sendable where Element: Sendable {}
