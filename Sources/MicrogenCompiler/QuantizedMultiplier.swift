import Foundation
import MicrogenIR

/// A real multiplier in fixed point: real ≈ multiplier · 2^(shift − 31), multiplier in [2^30, 2^31).
/// Computed at compile time, exactly as TFLite Micro's `QuantizeMultiplier` does at run time.
public struct QuantizedMultiplier: Sendable, Hashable {
    public var multiplier: Int32
    public var shift: Int

    /// The shifts the generated C applies (mg_fixedpoint.h and the kernels built on it): a right
    /// shift of at most 31 and a left shift of at most 30 keep every shift of an int32 defined.
    /// TFLM's QuantizeMultiplier gives the same bounds: below -31 it flushes to zero, and above
    /// 30 it saturates (its single-rounding build; its double-rounding build shifts `1 << shift`,
    /// undefined there, so no TFLM result exists to match beyond 30).
    public static let shiftRange = -31...30

    public init(multiplier: Int32, shift: Int) {
        // Every value the compiler builds is bounded before it gets here (see `shiftRange`);
        // a shift outside would become undefined behaviour in the generated C.
        precondition(Self.shiftRange.contains(shift), "requantization shift \(shift) outside \(Self.shiftRange)")
        self.multiplier = multiplier
        self.shift = shift
    }

    /// TFLM's `QuantizeMultiplier`, total: a non-finite real (only a corrupt model produces one)
    /// is refused with a message, any finite one (subnormal or huge) gets TFLM's bounded result.
    public init(_ real: Double) throws {
        guard real.isFinite else {
            throw MicrogenError(.malformedModel, "a requantization multiplier derived from the model's scales is \(real)")
        }
        if real == 0 {
            self.init(multiplier: 0, shift: 0)
            return
        }
        // frexp on the magnitude: Glibc's Swift overlay drops the sign of a negative argument,
        // while C's frexp keeps it in the fraction. Put the sign back on the fixed-point value.
        // For a finite non-zero value the fraction is in [0.5, 1), so `fixed` is in [2^30, 2^31].
        let parts = frexp(abs(real))
        var shift = parts.1
        // TfLiteRound is std::round: half away from zero (symmetric, so rounding |q| is the same).
        var fixed = Int64((parts.0 * Double(Int64(1) << 31)).rounded(.toNearestOrAwayFromZero))
        if fixed == Int64(1) << 31 && real > 0 {
            fixed /= 2
            shift += 1
        }
        if real < 0 { fixed = -fixed }
        if shift < Self.shiftRange.lowerBound {
            shift = 0
            fixed = 0
        }
        if shift > Self.shiftRange.upperBound {
            shift = Self.shiftRange.upperBound
            fixed = real < 0 ? -Int64(Int32.max) : Int64(Int32.max)
        }
        self.init(multiplier: Int32(clamping: fixed), shift: shift)
    }
}

/// The int8 output clamp for a fused activation: TFLM's `CalculateActivationRangeQuantized`.
public func quantizedActivationRange(_ activation: FusedActivation, scale: Float, zeroPoint: Int,
                                     qmin: Int = -128, qmax: Int = 127) throws -> (min: Int, max: Int) {
    // TFLM quantizes the bounds in single precision: zero_point + round(f / scale).
    // A bound beyond int8 by any margin clamps the same way: keep the conversion to Int defined
    // (a tiny scale sends f / scale to infinity).
    func quantize(_ f: Float) -> Int {
        let steps = (f / scale).rounded(.toNearestOrAwayFromZero)
        guard !steps.isNaN else { return zeroPoint }
        return zeroPoint + Int(max(-65536, min(65536, steps)))
    }
    switch activation {
    case .none: return (qmin, qmax)
    case .relu: return (max(qmin, quantize(0)), qmax)
    case .relu6: return (max(qmin, quantize(0)), min(qmax, quantize(6)))
    case .reluN1To1: return (max(qmin, quantize(-1)), min(qmax, quantize(1)))
    case .tanh, .signBit:
        throw MicrogenError(.unsupported, "fused activation \(activation.rawValue) is not supported on int8 operators")
    }
}

/// The float output clamp for a fused activation: TFLite's `CalculateActivationRange`.
public func floatActivationRange(_ activation: FusedActivation) throws -> (min: Float, max: Float) {
    switch activation {
    case .none: return (-Float.greatestFiniteMagnitude, Float.greatestFiniteMagnitude)
    case .relu: return (0, Float.greatestFiniteMagnitude)
    case .relu6: return (0, 6)
    case .reluN1To1: return (-1, 1)
    case .tanh, .signBit:
        throw MicrogenError(.unsupported, "fused activation \(activation.rawValue) is not supported on float operators")
    }
}
