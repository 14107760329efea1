import PruneCore
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
        /// Bits per stored value, for a quantised weight (8 or 4).
        public var bits: Int?
        /// Input channels per scale of a quantised weight; 0 for one scale per output channel.
        public var groupSize: Int?

        /// Creates a size.
        public init(format: String, bytes: Int, nonzeros: Int? = nil, bits: Int? = nil, groupSize: Int? = nil) {
            self.format = format
            self.bytes = bytes
            self.nonzeros = nonzeros
            self.bits = bits
            self.groupSize = groupSize
        }

        init(_ stored: StoredTensor) {
            self.init(format: stored.format, bytes: stored.bytes, nonzeros: stored.nonzeros)
        }
    }

    /// Records how each tensor was stored in the input (`before`) and in the output (`after`, nil when nothing was
    /// written), and the byte sums in ``totals``. Tensors are matched by name; a weight a rewriter quantised
    /// (`quantized`, by its old name) is followed to its parts — its integer values, scales and the like — whose
    /// bytes it is given together (format: the layout, `int-quantized, sparse-bitmask` when its values are stored
    /// sparse too). Any other tensor the output no longer has gets no `storageAfter`.
    public mutating func recordStorage(
        before: [StoredTensor], after: [StoredTensor]?, quantized: [String: QuantizedWeight] = [:]
    ) {
        let beforeByName = Dictionary(before.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let afterByName = after.map { Dictionary($0.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }) }
        for index in tensors.indices {
            let name = tensors[index].name
            tensors[index].storageBefore = beforeByName[name].map(StoredSize.init)
            if let record = quantized[name], let afterByName {
                let parts = record.parts.compactMap { afterByName[$0] }
                let sparse = parts.first { $0.format != "dense" }
                tensors[index].storageAfter = StoredSize(
                    format: record.format + (sparse.map { ", " + $0.format } ?? ""),
                    bytes: parts.reduce(record.bytesOutsideParameters) { $0 + $1.bytes }, nonzeros: sparse?.nonzeros,
                    bits: record.bits, groupSize: record.groupSize)
            } else {
                tensors[index].storageAfter = afterByName?[name].map(StoredSize.init)
            }
        }
        totals.bytesBefore = before.reduce(0) { $0 + $1.bytes }
        totals.bytesAfter = after.map { stored in
            stored.reduce(0) { $0 + $1.bytes } + quantized.values.reduce(0) { $0 + $1.bytesOutsideParameters }
        }
    }
}
