import MicrogenIR

/// Numbers from the model that later stages convert (scales and zero points into fixed-point
/// multipliers, shifts and clamps; float options into multipliers) are checked here, at import,
/// before anything converts them: a NaN, an infinity or an absurd magnitude becomes a one-line
/// refusal naming the tensor or operator, never a trap in microgen or a shift out of range in C.
extension TFLiteGraphBuilder {
    /// Scales run from the smallest normal float to 2^60. Inside it every multiplier microgen
    /// derives is a finite double (ratios and products of two or three scales), the float product
    /// of two scales that FULLY_CONNECTED forms in float as TFLM does stays finite. Real models
    /// use scales between about 1e-10 and 1e3.
    static let scaleRange: ClosedRange<Float> = Float.leastNormalMagnitude...0x1p60

    /// The zero points a tensor's type can hold (a zero point is a value of the quantized type).
    static func zeroPointRange(_ type: DataType) -> ClosedRange<Int>? {
        switch type {
        case .int8: return -128...127
        case .uint8: return 0...255
        case .int16: return Int(Int16.min)...Int(Int16.max)
        case .int32: return Int(Int32.min)...Int(Int32.max)
        // float tensors ignore their quantization; int64 zero points are what the file holds.
        case .int64, .float16, .float32, .float64, .bool: return nil
        }
    }

    /// Every tensor's scales and zero points, used or not (reports list every tensor).
    func checkQuantizationValues(_ tensors: [Tensor]) throws {
        var problems: [String] = []
        for (index, tensor) in tensors.enumerated() {
            guard let q = tensor.quantization else { continue }
            if let bad = q.scales.firstIndex(where: { !Self.scaleRange.contains($0) }) {
                let which = q.scales.count > 1 ? "scale \(bad) of \(q.scales.count)" : "scale"
                problems.append("\(label(tensor: index)) has \(which) \(q.scales[bad]) (scales must be finite, from 2^-126 to 2^60)")
            }
            if let range = Self.zeroPointRange(tensor.dataType), let bad = q.zeroPoints.first(where: { !range.contains($0) }) {
                problems.append("\(label(tensor: index)) has zero point \(bad), outside its \(tensor.dataType) range \(range.lowerBound)...\(range.upperBound)")
            }
        }
        guard let first = problems.first else { return }
        let more = problems.count > 1 ? " (and \(problems.count - 1) more bad quantization parameters)" : ""
        throw malformed("\(first)\(more)")
    }
}

extension TFLiteOptionsDecoder {
    /// Float options (SOFTMAX beta, LEAKY_RELU alpha) become fixed-point multipliers: each must be
    /// finite and no larger in magnitude than 2^20, far beyond any trained value (beta is 1,
    /// alpha about 0.01 to 0.3) and small enough that no multiplier derived from it overflows.
    static let floatOptionLimit: Float = 0x1p20

    func checkedFloatOption(_ value: Float, _ field: String) throws -> Float {
        guard value.isFinite, abs(value) <= Self.floatOptionLimit else {
            throw MicrogenError(.malformedModel, "\(fileName): \(operatorLabel) has \(field) \(value); it must be finite and at most 2^20 in magnitude")
        }
        return value
    }
}
