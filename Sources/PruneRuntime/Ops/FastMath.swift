/// Branch-free float approximations that vectorise, for the transcendental functions on hot paths.
enum FastMath {
    /// e^x with a relative error below 2e-7 over the float range: 2^n · p(r) after reducing x by n·ln 2.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -87.33654), 88.72283)
        // Round to nearest by adding 1.5·2^23, which also leaves n in the low mantissa bits (no checked conversion).
        let shifted = clamped * 1.44269504088896341 + 12582912
        let n = shifted - 12582912
        let r = clamped - n * 0.693145751953125 - n * 1.428606765330187045e-06
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let exponent = Int32(bitPattern: shifted.bitPattern &- 0x4B40_0000) &+ 127
        let scale = Float(bitPattern: UInt32(bitPattern: exponent) &<< 23)
        let result = p * scale
        return x.isNaN ? x : result
    }

    /// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), odd-symmetric.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = Swift.abs(x)
        let t = 1 / (1 + 0.3275911 * a)
        var y: Float = 1.061405429
        y = y * t - 1.453152027
        y = y * t + 1.421413741
        y = y * t - 0.284496736
        y = y * t + 0.254829592
        let value = 1 - y * t * exp(-a * a)
        return x < 0 ? -value : value
    }
}
