import Foundation
import PruneCore

struct NegF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { -x } }
struct AbsF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.abs(x) } }
struct ReciprocalF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { 1 / x } }
struct FloorF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x.rounded(.down) } }
struct CeilF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x.rounded(.up) } }
/// Round half to even, as ONNX specifies.
struct RoundF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x.rounded(.toNearestOrEven) } }
struct SinF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.sin(x) } }
struct CosF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.cos(x) } }
struct SignF: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : x) }
}
/// `log(1 + exp(x))`, computed without overflow for large `x`.
struct SoftplusF: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 20 ? x : Foundation.log1p(Foundation.exp(x)) }
}
struct SoftsignF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x / (1 + Swift.abs(x)) } }
struct EluF: UnaryFunction {
    let alpha: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x < 0 ? alpha * (Foundation.exp(x) - 1) : x }
}
struct SeluF: UnaryFunction {
    let alpha: Float
    let gamma: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x <= 0 ? gamma * alpha * (Foundation.exp(x) - 1) : gamma * x }
}
struct CeluF: UnaryFunction {
    let alpha: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float {
        Swift.max(0, x) + Swift.min(0, alpha * (Foundation.exp(x / alpha) - 1))
    }
}
struct ThresholdedReluF: UnaryFunction {
    let alpha: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > alpha ? x : 0 }
}
/// `x · tanh(softplus(x))`.
struct MishF: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * Foundation.tanh(SoftplusF()(x)) }
}
enum PReluF: BinaryOp { @inline(__always) static func apply(_ x: Float, _ slope: Float) -> Float { x < 0 ? slope * x : x } }

/// More unary math (Neg Abs Reciprocal Floor Ceil Round Sin Cos Sign) and activations (Softplus Softsign Elu Selu
/// Celu ThresholdedRelu Mish PRelu). Neg and Abs also take int64.
enum MoreActivationOps {
    static let factories: [String: KernelFactory] = [
        "Neg": integerAware(NegF()) { 0 &- $0 },
        "Abs": integerAware(AbsF()) { $0 < 0 ? 0 &- $0 : $0 },
        "Reciprocal": ActivationOps.unary(ReciprocalF()),
        "Floor": ActivationOps.unary(FloorF()),
        "Ceil": ActivationOps.unary(CeilF()),
        "Round": ActivationOps.unary(RoundF()),
        "Sin": ActivationOps.unary(SinF()),
        "Cos": ActivationOps.unary(CosF()),
        "Sign": ActivationOps.unary(SignF()),
        "Softplus": ActivationOps.unary(SoftplusF()),
        "Softsign": ActivationOps.unary(SoftsignF()),
        "Mish": ActivationOps.unary(MishF()),
        "Elu": { node, _ in try ActivationOps.unary(EluF(alpha: node.float("alpha", default: 1)))(node, 0) },
        "Selu": { node, _ in
            try ActivationOps.unary(
                SeluF(alpha: node.float("alpha", default: 1.67326319217681884765625),
                      gamma: node.float("gamma", default: 1.05070102214813232421875)))(node, 0)
        },
        "Celu": { node, _ in try ActivationOps.unary(CeluF(alpha: node.float("alpha", default: 1)))(node, 0) },
        "ThresholdedRelu": { node, _ in
            try ActivationOps.unary(ThresholdedReluF(alpha: node.float("alpha", default: 1)))(node, 0)
        },
        "PRelu": { _, opset in
            ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                var slope = try context.input(inputs, 1)
                // Before opset 7 a 1-D slope of one value per channel applies along axis 1.
                if opset < 7, slope.shape.count == 1, x.shape.count >= 2, slope.count == x.shape[1], slope.count > 1 {
                    slope = slope.reshaped([slope.count] + [Int](repeating: 1, count: x.shape.count - 2))
                }
                try context.require(x, [.f32], "input 0 (X)")
                try context.require(slope, [.f32], "input 1 (slope)")
                return [try broadcastBinary(PReluF.self, x, slope, resultType: .f32, context: context)]
            }
        },
    ]

    /// A float32 function that also maps int64 tensors with `integer`.
    private static func integerAware<F: UnaryFunction>(_ f: F, _ integer: @escaping @Sendable (Int64) -> Int64) -> KernelFactory {
        { node, opset in
            let floating = try ActivationOps.unary(f)(node, opset)
            return ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                guard x.dtype == .i64 else { return try floating.run(inputs, context) }
                let out = RuntimeTensor(uninitialized: .i64, shape: x.shape)
                for i in 0..<x.count { out.i64[i] = integer(x.i64[i]) }
                return [out]
            }
        }
    }
}
