import RefLedgerTestSupport
import Testing

@testable import RefLedgerCore

/// The ledger's maps by string key (``KeyedTable`` over its ``PositionIndex``) must behave
/// exactly like the dictionaries they replaced: same answers for every key, present or not,
/// through growth, long probe runs and copies.
@Suite struct KeyedTableTests {
    /// Keys of the shapes the ledger sees (ids, codes in several cases, visitors), with
    /// repeats, the empty key and keys longer than one 8-byte word.
    static func keys(count: Int, seed: UInt64) -> [String] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            switch random.next() % 6 {
            case 0: "user-\(random.next() % 5_000)"
            case 1: "C\(random.next() % 3_000)X"
            case 2: "c\(random.next() % 3_000)x"
            case 3: "v-\(random.next() % 10_000)-\(String(repeating: "z", count: Int(random.next() % 40)))"
            case 4: String(repeating: "a", count: Int(random.next() % 20))
            default: "order:\(random.next() % 8_000).\(random.next() % 3)"
            }
        }
    }

    @Test func answersLikeADictionary() {
        var table = KeyedTable<Int>()
        var model: [String: Int] = [:]
        var order: [String] = []
        // Results are gathered and each kind checked once, naming a few keys, so that a broken
        // table reports readably rather than once per key.
        var wronglyAdded: [String] = []
        for (value, key) in Self.keys(count: 30_000, seed: 11).enumerated() {
            let added = table.addIfAbsent(value, forKey: key)
            if model[key] == nil {
                if added != order.count { wronglyAdded.append(key) }
                model[key] = value
                order.append(key)
            } else if added != nil {
                wronglyAdded.append(key)
            }
        }
        #expect(wronglyAdded.isEmpty, "keys added wrongly: \(wronglyAdded.prefix(5))")
        #expect(table.count == model.count)
        let keysInOrder = table.keys.elementsEqual(order)
        let valuesByPosition = table.values.elementsEqual(order.map { model[$0]! })
        let iteratedInOrder = table.map(\.key).elementsEqual(order)
        #expect(keysInOrder && valuesByPosition && iteratedInOrder)
        let misplaced = order.filter { key in
            table[key] != model[key] || table.position(of: key).map { table.keys[$0] } != key
        }
        #expect(misplaced.isEmpty, "keys not found where they are: \(misplaced.prefix(5))")
        let asked = Self.keys(count: 5_000, seed: 12) + ["not-a-key"]
        let wrong = asked.filter { table[$0] != model[$0] }
        #expect(wrong.isEmpty, "keys answered unlike the dictionary: \(wrong.prefix(5))")
    }

    @Test func findsKeysThroughGrowthAndReservedRoom() {
        var reserved = KeyedTable<String>()
        reserved.reserveCapacity(1_000)
        var grown = KeyedTable<String>()
        for index in 0..<3_000 {
            #expect(reserved.addIfAbsent("value \(index)", forKey: "key-\(index)") == index)
            #expect(grown.addIfAbsent("value \(index)", forKey: "key-\(index)") == index)
            // Every key added so far is still found after each growth.
            if index.isMultiple(of: 499) {
                let lost = (0...index).filter { grown["key-\($0)"] != "value \($0)" }
                #expect(lost.isEmpty, "after \(index + 1) keys, lost \(lost.count), e.g. \(lost.prefix(5))")
            }
        }
        let allFound = (0..<3_000).allSatisfy { reserved["key-\($0)"] == "value \($0)" }
        #expect(allFound)
        #expect(reserved["key-3000"] == nil)
    }

    @Test func addingIfAbsentMakesAValueOnlyForANewKey() {
        var table = KeyedTable<[Int]>()
        var made = 0
        let first = table.position(addingIfAbsent: "visitor") {
            made += 1
            return []
        }
        table[at: first].append(1)
        let again = table.position(addingIfAbsent: "visitor") {
            made += 1
            return []
        }
        table[at: again].append(2)
        #expect(first == again)
        #expect(made == 1)
        #expect(table["visitor"] == [1, 2])
        #expect(table.position(addingIfAbsent: "other") { [9] } == 1)
        #expect(table["other"] == [9])
    }

    @Test func copiesAreValues() {
        var table = KeyedTable<Int>()
        for index in 0..<100 { _ = table.addIfAbsent(index, forKey: "k\(index)") }
        let copy = table
        var detached = table
        detached.detach()
        for index in 100..<1_000 { _ = table.addIfAbsent(index, forKey: "k\(index)") }
        table[at: 0] = -1
        #expect(copy.count == 100)
        #expect(copy["k0"] == 0)
        #expect(copy["k500"] == nil)
        #expect(detached.count == 100)
        #expect(detached["k0"] == 0)
        #expect(detached.addIfAbsent(7, forKey: "k500") == 100)
        #expect(table["k500"] == 500)
        #expect(table["k0"] == -1)
    }
}

/// The storage of a table's keys and values: an array that grows by chunks must read, change
/// and copy like an array across its chunks' edges.
@Suite struct ChunkedArrayTests {
    /// An element as large as a participant, so that a chunk holds few of them (256).
    struct Wide: Equatable {
        var number: Int
        var padding: (Int128, Int128, Int128, Int128, Int128) = (0, 0, 0, 0, 0)
        static func == (lhs: Wide, rhs: Wide) -> Bool { lhs.number == rhs.number }
    }

    @Test func readsAndChangesLikeAnArrayAcrossChunks() {
        var chunked = ChunkedArray<Wide>()
        var model: [Wide] = []
        for number in 0..<2_000 {
            chunked.append(Wide(number: number))
            model.append(Wide(number: number))
        }
        #expect(ChunkedArray<Wide>.chunkCapacity == 256 && ChunkedArray<Int>.chunkCapacity == 4_096)
        for position in stride(from: 0, to: 2_000, by: 3) {
            chunked[position].number *= -1
            model[position].number *= -1
        }
        #expect(chunked.count == 2_000)
        #expect(chunked.elementsEqual(model))
        #expect(chunked[255] == model[255] && chunked[256] == model[256] && chunked[1_999] == model[1_999])
    }

    @Test func copiesShareNothingVisible() {
        var original = ChunkedArray<Wide>()
        original.reserveCapacity(700)
        for number in 0..<700 { original.append(Wide(number: number)) }
        let copy = original
        var other = original
        // A change in the middle of a full chunk, in the last chunk, and growth past it.
        original[300].number = -300
        original[699].number = -699
        for number in 700..<1_000 { original.append(Wide(number: number)) }
        other[0].number = -1
        other.append(Wide(number: 7))
        #expect(copy.count == 700 && copy[300].number == 300 && copy[699].number == 699 && copy[0].number == 0)
        #expect(other.count == 701 && other[300].number == 300 && other[0].number == -1 && other[700].number == 7)
        #expect(original.count == 1_000 && original[300].number == -300 && original[0].number == 0)
        #expect(original.map(\.number).suffix(300).elementsEqual(700..<1_000))
    }
}
