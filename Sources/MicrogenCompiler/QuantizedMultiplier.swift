import Foundation
import MicrogenIR

/// A real multiplier in fixed point: real ≈ multiplier · 2^(shift − 31), multiplier in [2^30, 2^31).
/// Computed at compile time, exactly as TFLite Micro's `QuantizeMultiplier` does at run time.
public struct QuantizedMultiplier: Sendable, Hashable {
    public var multiplier: Int32
    public var shift: Int

    public init(multiplier: Int32, shift: Int) {
        self.multiplier = multiplier
        self.shift = shift
    }

    public init(_ real: Double) {
        if real == 0 {
            self.init(multiplier: 0, shift: 0)
            return
        }
        // frexp on the magnitude: Glibc's Swift overlay drops the sign of a negative argument,
        // while C's frexp keeps it in the fraction. Put the sign back on the fixed-point value.
        let parts = frexp(abs(real))
        var shift = parts.1
        // TfLiteRound is std::round: half away from zero (symmetric, so rounding |q| is the same).
        var fixed = Int64((parts.0 * Double(Int64(1) << 31)).rounded(.toNearestOrAwayFromZero))
        if fixed == Int64(1) << 31 && real > 0 {
            fixed /= 2
            shift += 1
        }
        if real < 0 { fixed = -fixed }
        if shift < -31 {
            shift = 0
            fixed = 0
        }
        self.init(multiplier: Int32(fixed), shift: shift)
    }
}

/// The int8 output clamp for a fused activation: TFLM's `CalculateActivationRangeQuantized`.
public func quantizedActivationRange(_ activation: FusedActivation, scale: Float, zeroPoint: Int,
                                     qmin: Int = -128, qmax: Int = 127) throws -> (min: Int, max: Int) {
    // TFLM quantizes the bounds in single precision: zero_point + round(f / scale).
    func quantize(_ f: Float) -> Int { zeroPoint + Int((f / scale).rounded(.toNearestOrAwayFromZero)) }
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
