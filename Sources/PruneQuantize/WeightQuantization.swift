import PruneCore

/// How a layer weight is quantised: symmetric integers of `bits` bits, one scale per output channel or per group
/// of `groupSize` consecutive input channels of each output channel.
///
/// A weight w becomes q = clamp(round(w / s), −2^(b−1), 2^(b−1) − 1) with s = max|w| / (2^(b−1) − 1) over the
/// weights sharing the scale, and reads back as q·s; zero stays exactly zero, so a pruned weight stays pruned.
/// Rounding is half to even, as ONNX's QuantizeLinear rounds.
public struct WeightQuantization: Sendable, Hashable {
    /// Bits per value: 8 (int8) or 4 (int4).
    public let bits: Int
    /// Input channels per scale group; 0 for one scale per output channel.
    public let groupSize: Int
    /// One scale for the whole tensor (then `groupSize` is 0).
    public let perTensor: Bool

    /// Creates a scheme.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` for bits other than 4 or 8, or a negative group size.
    public init(bits: Int, groupSize: Int, perTensor: Bool = false) throws {
        guard bits == 8 || bits == 4 else {
            throw PruneError(.invalidParameter, "'quantize': bits=\(bits) is not supported (4 or 8)")
        }
        guard groupSize >= 0 else { throw PruneError(.invalidParameter, "'quantize': group=\(groupSize) is negative") }
        self.bits = bits
        self.groupSize = perTensor ? 0 : groupSize
        self.perTensor = perTensor
    }

    /// The largest quantised magnitude: 127 for int8, 7 for int4.
    public var maximumLevel: Int { (1 << (bits - 1)) - 1 }

    /// In words, for reports: `int8 per output channel`, `int4 in groups of 128 input channels`.
    public var summary: String {
        perTensor ? "int\(bits) per tensor" : groupSize == 0 ? "int\(bits) per output channel" : "int\(bits) in groups of \(groupSize) input channels"
    }
}

/// The scales of one weight tensor under a ``WeightQuantization``, laid out as ONNX's DequantizeLinear reads them.
public struct WeightScales: Sendable {
    /// The weight's shape.
    public let shape: [Int]
    /// The axis the scales vary along in DequantizeLinear: the output axis (per channel) or the input axis (grouped).
    public let axis: Int
    /// DequantizeLinear's `block_size`: 0 per channel, the group size when grouped.
    public let blockSize: Int
    /// The scales' shape: `[out]` per channel; the weight's shape with ⌈in / group⌉ at the input axis when grouped.
    public let scaleShape: [Int]
    /// The scales, row-major in ``scaleShape``.
    public private(set) var scales: [Float]
    /// The scheme.
    public let scheme: WeightQuantization
    private let extent: Int
    private let inner: Int

    /// The scales of a weight of `shape` whose output and input axes are given by `layout`, from `values` (the
    /// weight's elements in row-major order).
    public init(values: [Float], shape: [Int], layout: WeightLayout, scheme: WeightQuantization) {
        self.shape = shape
        self.scheme = scheme
        if scheme.perTensor {
            axis = layout.outputAxis
            blockSize = 0
            scaleShape = []
        } else if scheme.groupSize == 0 {
            axis = layout.outputAxis
            blockSize = 0
            scaleShape = [shape[axis]]
        } else {
            axis = layout.inputAxis
            blockSize = scheme.groupSize
            var grouped = shape
            grouped[axis] = (shape[axis] + blockSize - 1) / blockSize
            scaleShape = grouped
        }
        extent = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
        var maxima = [Float](repeating: 0, count: scaleShape.reduce(1, *))
        scales = []
        for (index, value) in values.enumerated() {
            let p = parameterIndex(index)
            maxima[p] = max(maxima[p], abs(value))
        }
        let level = Float(scheme.maximumLevel)
        // An all-zero group gets scale 1: its values quantise to 0 whatever the scale.
        scales = maxima.map { $0 > 0 ? $0 / level : 1 }
    }

    /// The index into ``scales`` of the weight's flat element `index`.
    public func parameterIndex(_ index: Int) -> Int {
        if scheme.perTensor { return 0 }
        let (rest, within) = index.quotientAndRemainder(dividingBy: inner)
        let (outer, a) = rest.quotientAndRemainder(dividingBy: extent)
        guard blockSize > 0 else { return a }
        return (outer * scaleShape[axis] + a / blockSize) * inner + within
    }

    /// The quantised integer of `value` at the weight's flat element `index`.
    public func level(of value: Double, at index: Int) -> Int {
        let scaled = (value / Double(scales[parameterIndex(index)])).rounded(.toNearestOrEven)
        let top = Double(scheme.maximumLevel)
        return Int(min(max(scaled, -top - 1), top))
    }

    /// The value level `q` stands for at the weight's flat element `index` (q·s, in float32 as DequantizeLinear
    /// computes it).
    public func value(of level: Int, at index: Int) -> Float { Float(level) * scales[parameterIndex(index)] }

    /// The quantised integers of all `values` (the weight's elements in row-major order).
    public func levels(of values: [Float]) -> [Int8] {
        values.enumerated().map { Int8(level(of: Double($0.element), at: $0.offset)) }
    }
}
