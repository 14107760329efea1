import Foundation

/// Maps a data interval linearly onto a pixel interval, and chooses round tick values for it.
public struct LinearScale: Sendable, Hashable {
    /// The data interval.
    public var domain: ClosedRange<Double>
    /// The pixel position of the domain's lower end.
    public var start: Double
    /// The pixel position of the domain's upper end (smaller than ``start`` on a y axis, which grows downwards).
    public var end: Double

    /// Creates a scale mapping `domain` onto `range.lower … range.upper`.
    public init(domain: ClosedRange<Double>, range: (lower: Double, upper: Double)) {
        self.domain = domain
        start = range.lower
        end = range.upper
    }

    /// The pixel position of `value`.
    public func callAsFunction(_ value: Double) -> Double {
        let span = domain.upperBound - domain.lowerBound
        let t = span == 0 ? 0.5 : (value - domain.lowerBound) / span
        return start + t * (end - start)
    }

    /// Round tick values covering `domain`: steps of 1, 2 or 5 × 10^k, about `count` of them.
    public static func ticks(for domain: ClosedRange<Double>, count: Int = 5) -> [Double] {
        let step = niceStep(domain.upperBound - domain.lowerBound, count: count)
        // A little slack, so a bound that is a multiple of the step up to rounding (6 × 0.1) gets its tick.
        let first = (domain.lowerBound / step - 1e-9).rounded(.up)
        let last = (domain.upperBound / step + 1e-9).rounded(.down)
        guard first <= last else { return [domain.lowerBound] }
        return stride(from: first, through: last, by: 1).map { ($0 * step * 1e9).rounded() / 1e9 }
    }

    /// `domain` widened to round tick values at both ends; an empty domain is widened around its value.
    public static func nice(_ domain: ClosedRange<Double>, count: Int = 5) -> ClosedRange<Double> {
        var lower = domain.lowerBound
        var upper = domain.upperBound
        if lower == upper {
            let pad = lower == 0 ? 1 : abs(lower) * 0.1
            lower -= pad
            upper += pad
        }
        let step = niceStep(upper - lower, count: count)
        return ((lower / step).rounded(.down) * step)...((upper / step).rounded(.up) * step)
    }

    /// 1, 2 or 5 × 10^k, the round step nearest to `span / count`.
    static func niceStep(_ span: Double, count: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(1, count))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / magnitude
        let nice: Double = fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10
        return nice * magnitude
    }

    /// A tick label: as few decimals as the step needs.
    static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, min(6, Int((-log10(step)).rounded(.up))))
        // A tick at zero up to rounding is 0, not -0.0.
        return String(format: "%.\(decimals)f", abs(value) < step * 1e-6 ? 0 : value)
    }
}
