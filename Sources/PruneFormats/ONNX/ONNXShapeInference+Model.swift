import ONNXProto
import PruneCore

extension ONNXShapeInference {
    /// Static shape inference over `graph` with `model`'s parameters: their current dims (which a rewrite may have
    /// changed since the graph's initializer messages were written) and the values of the small INT64, INT32 and FLOAT
    /// ones (shape arguments, Resize scales).
    package init(graph: Onnx_GraphProto, model: Model, inputShapes: [String: [Int]] = [:]) {
        var dims: [String: [Int64]] = [:]
        var constants: [String: [Int64]] = [:]
        var floats: [String: [Float]] = [:]
        for initializer in graph.initializer { dims[initializer.name] = initializer.dims }
        for parameter in model.parameters {
            let tensor = parameter.tensor
            dims[parameter.name] = tensor.shape.map { Int64($0) }
            guard tensor.elementCount <= 64 else { continue }
            if tensor.dtype == .i64 { constants[parameter.name] = tensor.withInt64Values { Array($0) } }
            // tf2onnx writes shape arguments and Slice bounds as INT32 (magika's one-hot and Conv slices).
            if tensor.dtype == .i32 { constants[parameter.name] = tensor.int32Values().map(Int64.init) }
            if tensor.dtype == .f32 { floats[parameter.name] = tensor.floatValues() }
        }
        self.init(
            graph: graph, initializerDims: dims, constants: constants, floatConstants: floats, inputShapes: inputShapes)
    }
}

extension Tensor {
    /// The values of an INT32 tensor (masked elements read as 0).
    package func int32Values() -> [Int32] { copiedIntegers(Int32.self) }

    /// The values of an INT64 tensor (masked elements read as 0).
    package func withInt64Values<R>(_ body: (UnsafeBufferPointer<Int64>) throws -> R) rethrows -> R {
        try copiedIntegers(Int64.self).withUnsafeBufferPointer(body)
    }

    /// The tensor's bytes copied out as integers of `type`, whose width must be the element type's.
    private func copiedIntegers<T: FixedWidthInteger>(_ type: T.Type) -> [T] {
        var values = [T](repeating: 0, count: elementCount)
        var offset = 0
        forEachByteChunk { chunk in
            values.withUnsafeMutableBytes { target in
                UnsafeMutableRawBufferPointer(rebasing: target[offset..<(offset + chunk.count)]).copyMemory(
                    from: chunk)
            }
            offset += chunk.count
        }
        return values
    }
}
