import Foundation
import PruneCore

/// A float function applied element by element; a struct per op so generic loops specialise and vectorise.
protocol UnaryFunction: Sendable {
    func callAsFunction(_ x: Float) -> Float
}

/// Applies `f` to every element of the float32 tensor `x`, in parallel when large.
func mapUnary<F: UnaryFunction>(_ f: F, _ x: RuntimeTensor, context: KernelContext) -> RuntimeTensor {
    let out = RuntimeTensor(uninitialized: .f32, shape: x.shape)
    let src = SharedPointer(x.f32)
    let dst = SharedPointer(out.f32)
    parallelChunks(x.count, threads: context.threads, grain: 1 << 14) { range in
        unaryLoop(f, src.pointer + range.lowerBound, dst.pointer + range.lowerBound, range.count)
    }
    return out
}

@inline(__always)
private func unaryLoop<F: UnaryFunction>(_ f: F, _ s: UnsafeMutablePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { d[i] = f(s[i]) }
}

struct SqrtF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x.squareRoot() } }
struct ExpF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { FastMath.exp(x) } }
struct LogF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.log(x) } }
struct ErfF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { FastMath.erf(x) } }
struct TanhF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.tanh(x) } }
struct SigmoidF: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float {
        1 / (1 + FastMath.exp(-x))
    }
}
/// Written as a select (not `max`) so the loop vectorises; NaN passes through.
struct ReluF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x < 0 ? 0 : x } }
struct LeakyReluF: UnaryFunction {
    let alpha: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x < 0 ? alpha * x : x }
}
struct ClipF: UnaryFunction {
    let low: Float
    let high: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float {
        let raised = x < low ? low : x
        return raised > high ? high : raised
    }
}
struct HardSigmoidF: UnaryFunction {
    let alpha: Float
    let beta: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.max(0, Swift.min(1, alpha * x + beta)) }
}
struct HardSwishF: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * Swift.max(0, Swift.min(1, x / 6 + 0.5)) }
}
struct GeluF: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { 0.5 * x * (1 + FastMath.erf(x * 0.70710678118654752)) }
}
struct GeluTanhF: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float {
        0.5 * x * (1 + Foundation.tanh(0.79788456080286536 * (x + 0.044715 * x * x * x)))
    }
}

/// Unary math (Sqrt Exp Log Erf Tanh) and activations (Sigmoid Relu LeakyRelu Clip HardSigmoid HardSwish Gelu).
enum ActivationOps {
    static let factories: [String: KernelFactory] = [
        "Sqrt": unary(SqrtF()),
        "Exp": unary(ExpF()),
        "Log": unary(LogF()),
        "Erf": unary(ErfF()),
        "Tanh": unary(TanhF()),
        "Sigmoid": unary(SigmoidF()),
        "Relu": unary(ReluF()),
        "HardSwish": unary(HardSwishF()),
        "LeakyRelu": { node, _ in try unary(LeakyReluF(alpha: node.float("alpha", default: 0.01)))(node, 0) },
        "HardSigmoid": { node, _ in
            try unary(HardSigmoidF(alpha: node.float("alpha", default: 0.2), beta: node.float("beta", default: 0.5)))(node, 0)
        },
        "Gelu": { node, _ in
            switch try node.string("approximate", default: "none") {
            case "none": return try unary(GeluF())(node, 0)
            case "tanh": return try unary(GeluTanhF())(node, 0)
            case let other: throw node.error(.unsupported, "approximate='\(other)' is not a Gelu mode")
            }
        },
        "Clip": clip,
    ]

    static func unary<F: UnaryFunction>(_ f: F) -> KernelFactory {
        { _, _ in
            ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                try context.require(x, [.f32], "input 0")
                return [mapUnary(f, x, context: context)]
            }
        }
    }

    /// Clip: bounds from attributes before opset 11, from optional scalar inputs after.
    private static let clip: KernelFactory = { node, opset in
        let attributeMin = try node.optionalFloat("min")
        let attributeMax = try node.optionalFloat("max")
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            try context.require(x, [.f32], "input 0")
            var low = attributeMin ?? -Float.greatestFiniteMagnitude
            var high = attributeMax ?? Float.greatestFiniteMagnitude
            if opset >= 11 {
                if inputs.count > 1, let t = inputs[1] {
                    try context.require(t, [.f32], "input 1 (min)")
                    low = t.f32[0]
                }
                if inputs.count > 2, let t = inputs[2] {
                    try context.require(t, [.f32], "input 2 (max)")
                    high = t.f32[0]
                }
            }
            return [mapUnary(ClipF(low: low, high: high), x, context: context)]
        }
    }
}
