import PruneFormats

extension PruneReport {
    /// How a tensor's data is stored in a file and what it takes there.
    public struct StoredSize: Sendable, Codable, Hashable {
        /// `dense`, `sparse-coo` (ONNX `sparse_initializer`), `sparse-bitmask` or `sparse-24-bitmask`
        /// (compressed-tensors).
        public var format: String
        /// Bytes of its data: values plus indices, bitmask and row offsets for sparse forms (container overhead
        /// not included).
        public var bytes: Int
        /// Non-zero elements stored, for sparse forms.
        public var nonzeros: Int?

        /// Creates a size.
        public init(format: String, bytes: Int, nonzeros: Int? = nil) {
            self.format = format
            self.bytes = bytes
            self.nonzeros = nonzeros
        }

        init(_ stored: StoredTensor) {
            self.init(format: stored.format, bytes: stored.bytes, nonzeros: stored.nonzeros)
        }
    }

    /// Records how each tensor was stored in the input (`before`) and in the output (`after`, nil when nothing was
    /// written), and the byte sums in ``totals``. Tensors are matched by name; a tensor the output no longer has
    /// gets no `storageAfter`.
    public mutating func recordStorage(before: [StoredTensor], after: [StoredTensor]?) {
        let beforeByName = Dictionary(before.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let afterByName = after.map { Dictionary($0.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }) }
        for index in tensors.indices {
            let name = tensors[index].name
            tensors[index].storageBefore = beforeByName[name].map(StoredSize.init)
            tensors[index].storageAfter = afterByName?[name].map(StoredSize.init)
        }
        totals.bytesBefore = before.reduce(0) { $0 + $1.bytes }
        totals.bytesAfter = after?.reduce(0) { $0 + $1.bytes }
    }
}
