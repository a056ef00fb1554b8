/// A binary min-heap of `UInt64` keys over one contiguous array.
///
/// Both users pack what they order by into the key, so the heap never calls a closure:
/// the encoder pushes `rank << 32 | position` (lowest rank first, leftmost on ties), and the
/// trainer pushes `~(count << 32 | pair)` (highest count first, smallest pair on ties).
///
///     var heap = MinHeap()
///     heap.push(5); heap.push(1); heap.push(3)
///     heap.pop()  // 1
/// - Complexity: `push` and `pop` are O(log n).
struct MinHeap {
    private(set) var storage: [UInt64] = []

    init(capacity: Int = 0) { storage.reserveCapacity(capacity) }

    var isEmpty: Bool { storage.isEmpty }
    var count: Int { storage.count }
    mutating func removeAll() { storage.removeAll(keepingCapacity: true) }

    mutating func push(_ key: UInt64) {
        storage.append(key)
        var child = storage.count - 1
        storage.withUnsafeMutableBufferPointer { heap in
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child] < heap[parent] else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = storage.popLast() else { return nil }
        guard !storage.isEmpty else { return last }
        let top = storage[0]
        storage.withUnsafeMutableBufferPointer { heap in
            heap[0] = last
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                let right = left + 1
                let smaller = right < count && heap[right] < heap[left] ? right : left
                guard heap[smaller] < heap[parent] else { break }
                heap.swapAt(smaller, parent)
                parent = smaller
            }
        }
        return top
    }
}
