/// The graph input that marks padded token positions with 0, by the Hugging Face convention (transformers, optimum
/// and sentence-transformers exports all name it so): calibration statistics and re-fits leave those positions out.
package enum PaddingMask {
    /// The input's name.
    package static let inputName = "attention_mask"

    /// Whether a mask shaped `maskShape` (`[b, s]`) marks the rows of a value shaped `valueShape`: it must be the
    /// value's leading axes, with the features last (`[b, s, features]`).
    package static func marksRows(of valueShape: [Int], maskShape: [Int]) -> Bool {
        valueShape.count == maskShape.count + 1 && Array(valueShape.dropLast()) == maskShape
    }

    /// The rows of `values` (row-major, `width` elements per row) whose entry in `real` is true, in order.
    package static func realRows<Values: RandomAccessCollection>(_ real: [Bool], of values: Values, width: Int)
        -> [Values.Element] where Values.Index == Int
    {
        var kept: [Values.Element] = []
        kept.reserveCapacity(real.lazy.filter { $0 }.count * width)
        for (row, isReal) in real.enumerated() where isReal {
            kept.append(contentsOf: values[(values.startIndex + row * width)..<(values.startIndex + (row + 1) * width)])
        }
        return kept
    }
}
