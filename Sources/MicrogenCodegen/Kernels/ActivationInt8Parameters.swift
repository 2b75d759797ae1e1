import Foundation
import MicrogenIR
import MicrogenCompiler

/// The fixed-point parameters of the int8 activations, computed exactly as TensorFlow Lite
/// Micro's Prepare functions compute them (logistic_common.cc, tanh.cc, activations_common.cc,
/// leaky_relu_common.cc, hard_swish_common.cc): which products are formed in float and which
/// in double matters for the last bit of a multiplier, so each is written out as TFLM does it.
struct ActivationInt8Parameters {
    var name: String
    var input: (scale: Float, zeroPoint: Int)
    var output: (scale: Float, zeroPoint: Int)
    var outputTensor: String

    struct Sigmoid {
        var inputZeroPoint: Int
        var inputRangeRadius: Int
        var inputMultiplier: Int32
        var inputLeftShift: Int
    }

    struct Relu {
        var inputZeroPoint: Int
        var outputZeroPoint: Int
        var output: QuantizedMultiplier
        var activationMin: Int
        var activationMax: Int
    }

    struct LeakyRelu {
        var inputZeroPoint: Int
        var outputZeroPoint: Int
        var identity: QuantizedMultiplier
        /// |alpha multiplier|: the kernel negates the product for a negative alpha, as TFLM does.
        var alphaMagnitude: QuantizedMultiplier
        var alphaIsNegative: Bool
    }

    struct HardSwish {
        var inputZeroPoint: Int
        var outputZeroPoint: Int
        var outputMultiplier: Int16
        var outputExponent: Int
        var reluishMultiplier: Int16
        var reluishExponent: Int
    }

    /// LOGISTIC and TANH: the input is rescaled to Q4 (4 integer bits). TFLM takes the
    /// multiplier straight from frexp(scale * 2^27) (no QuantizeMultiplier normalisation) and
    /// saturates inputs at the radius where that rescaling would leave Q4.
    func sigmoid(isLogistic: Bool) throws -> Sigmoid {
        // The output quantization is fixed by TFLite; TFLM's kernels assume it without checking
        // the scale, so any other would give wrong results: refuse it.
        let expected: (scale: Float, zeroPoint: Int, text: String) = isLogistic ? (1.0 / 256, -128, "1/256") : (1.0 / 128, 0, "1/128")
        guard output.scale == expected.scale, output.zeroPoint == expected.zeroPoint else {
            throw MicrogenError(.unsupported, "\(name): output '\(outputTensor)' has scale \(output.scale) and zero point "
                + "\(output.zeroPoint); int8 \(isLogistic ? "LOGISTIC" : "TANH") needs scale \(expected.text) and zero point \(expected.zeroPoint)")
        }
        let inputIntegerBits = 4
        let real = Double(input.scale) * Double(1 << (31 - inputIntegerBits))
        let (fraction, exponent) = frexp(real)
        let multiplier = (fraction * Double(Int64(1) << 31)).rounded(.toNearestOrAwayFromZero)
        // A float scale has 24 significant bits, so the multiplier is exact and below 2^31; the
        // exponent must leave room for the left shift of MultiplyByQuantizedMultiplier.
        guard exponent >= 0, exponent <= 31, multiplier < Double(Int64(1) << 31) else {
            throw MicrogenError(.unsupported, "\(name): input scale \(input.scale) is outside the range the int8 kernel supports "
                + "(2^-27 to 16)")
        }
        let radius = (Double((1 << inputIntegerBits) - 1) * Double(Int64(1) << (31 - inputIntegerBits))
            / Double(Int64(1) << exponent)).rounded(.down)
        return Sigmoid(inputZeroPoint: input.zeroPoint, inputRangeRadius: Int(radius),
                       inputMultiplier: Int32(multiplier), inputLeftShift: exponent)
    }

    /// RELU: requantize from the input scale to the output scale (in double), clamp below at
    /// the output's quantized zero.
    func relu() throws -> Relu {
        let m = try checkedMultiplier(Double(input.scale) / Double(output.scale), what: "input/output scale ratio")
        let lower = max(-128, output.zeroPoint + Int((Float(0) / output.scale).rounded(.toNearestOrAwayFromZero)))
        return Relu(inputZeroPoint: input.zeroPoint, outputZeroPoint: output.zeroPoint, output: m,
                    activationMin: lower, activationMax: 127)
    }

    /// RELU6 in TFLM clamps between the input's quantized 0 and 6 and copies: it ignores the
    /// output quantization (the converter gives both the same). Reproduced as is.
    func relu6() -> (lower: Int, upper: Int) {
        // round(6 / scale) in single precision, then the zero point, clamped to int8.
        let six = (Float(6) / input.scale).rounded(.toNearestOrAwayFromZero)
        let upper = six.isFinite && six < 1000 ? Int(six) + input.zeroPoint : 127
        return (input.zeroPoint, min(127, max(-128, upper)))
    }

    /// LEAKY_RELU: identity and alpha multipliers, both formed in single precision
    /// (input_scale * alpha / output_scale and input_scale / output_scale) then widened.
    func leakyRelu(alpha: Float) throws -> LeakyRelu {
        let identity = try checkedMultiplier(Double(input.scale / output.scale), what: "input/output scale ratio")
        let alphaReal = Double(input.scale * alpha / output.scale)
        // Formed in float as TFLM forms it: extreme scales overflow it before any conversion.
        guard alphaReal.isFinite else {
            throw MicrogenError(.unsupported, "\(name): the alpha multiplier (input scale × alpha / output scale) is \(alphaReal)")
        }
        // TFLM quantizes the signed value and the kernel negates it back; rounding is symmetric,
        // so quantizing |alpha real| gives the same magnitude, except where the mantissa rounds
        // up to 2^31: TFLM renormalises that only for positive values (a negative one would
        // overflow when negated). Foundation's frexp also drops the sign, so work on |x| here.
        let isNegative = alphaReal < 0
        if isNegative, (frexp(-alphaReal).0 * Double(Int64(1) << 31)).rounded(.toNearestOrAwayFromZero) >= Double(Int64(1) << 31) {
            throw MicrogenError(.unsupported, "\(name): alpha multiplier \(alphaReal) cannot be negated in int32")
        }
        let magnitude = try checkedMultiplier(abs(alphaReal), what: "alpha multiplier")
        return LeakyRelu(inputZeroPoint: input.zeroPoint, outputZeroPoint: output.zeroPoint, identity: identity,
                         alphaMagnitude: magnitude, alphaIsNegative: isNegative)
    }

    /// HARD_SWISH: TFLM's 16-bit recipe. The input goes to a "hires" scale (input_scale / 128);
    /// the output multiplier is hires / output_scale and the "reluish" multiplier maps 3.0 to
    /// 32768 (hires / (3 / 32768)); both are formed in float, quantized like any multiplier,
    /// then rounded to 16 bits.
    func hardSwish() throws -> HardSwish {
        let hiresInputScale = Float(1.0 / 128.0) * input.scale
        let reluishScale = Float(3.0) / Float(32768.0)
        let outputReal = Double(hiresInputScale / output.scale)
        guard outputReal.isFinite else {
            throw MicrogenError(.unsupported, "\(name): the output multiplier (input scale / 128 / output scale) is \(outputReal)")
        }
        let outputMultiplier = try QuantizedMultiplier(outputReal)
        guard outputMultiplier.shift <= 0 else {
            throw MicrogenError(.unsupported, "\(name): the output multiplier \(outputReal) (input scale / 128 / output scale) "
                + "is 1 or more: the output scale of '\(outputTensor)' is too small for the input scale (TFLite Micro refuses this too)")
        }
        let reluishReal = Double(hiresInputScale / reluishScale)
        let reluishMultiplier = try QuantizedMultiplier(reluishReal)
        guard outputReal > 0, reluishReal > 0 else {
            throw MicrogenError(.unsupported, "\(name): input scale \(input.scale) or output scale \(output.scale) is out of range")
        }
        return HardSwish(inputZeroPoint: input.zeroPoint, outputZeroPoint: output.zeroPoint,
                         outputMultiplier: Self.downscaleToInt16(outputMultiplier.multiplier),
                         outputExponent: outputMultiplier.shift,
                         reluishMultiplier: Self.downscaleToInt16(reluishMultiplier.multiplier),
                         reluishExponent: reluishMultiplier.shift)
    }

    /// TFLM's DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15, saturating.
    static func downscaleToInt16(_ multiplier: Int32) -> Int16 {
        let roundingOffset: Int32 = 1 << 15
        if multiplier >= Int32.max - roundingOffset { return Int16.max }
        return Int16((multiplier + roundingOffset) >> 16)
    }

    /// A requantization multiplier the kernels can apply: its left shift must fit in int32.
    private func checkedMultiplier(_ real: Double, what: String) throws -> QuantizedMultiplier {
        // Checked before the conversion; 2^30 is where QuantizedMultiplier would saturate.
        guard real.isFinite, real < 0x1p30 else {
            throw MicrogenError(.unsupported, "\(name): the \(what) \(real) is too large to requantize in int32")
        }
        return try QuantizedMultiplier(real)
    }

    /// The per-tensor int8 quantization of a tensor, or a clear refusal.
    static func perTensor(_ t: Tensor, _ name: String) throws -> (scale: Float, zeroPoint: Int) {
        guard let q = t.quantization, !q.scales.isEmpty else {
            throw MicrogenError(.unsupported, "\(name): int8 tensor '\(t.name)' has no quantization parameters")
        }
        guard !q.isPerChannel else {
            throw MicrogenError(.unsupported, "\(name): int8 tensor '\(t.name)' is quantized per channel; "
                + "activations need one scale and zero point")
        }
        guard q.scale > 0, q.scale.isFinite else {
            throw MicrogenError(.malformedModel, "\(name): int8 tensor '\(t.name)' has scale \(q.scale)")
        }
        guard (-128...127).contains(q.zeroPoint) else {
            throw MicrogenError(.malformedModel, "\(name): int8 tensor '\(t.name)' has zero point \(q.zeroPoint) outside [-128, 127]")
        }
        return (q.scale, q.zeroPoint)
    }
}
