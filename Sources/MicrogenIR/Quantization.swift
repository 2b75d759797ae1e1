/// Affine quantization of a tensor: real = scale * (q - zeroPoint).
/// Per-tensor quantization has one scale; per-channel has one per slice along `axis`.
public struct Quantization: Sendable, Hashable {
    public var scales: [Float]
    public var zeroPoints: [Int]
    /// The dimension the per-channel parameters run along (TFLite's `quantized_dimension`).
    public var axis: Int

    public init(scales: [Float], zeroPoints: [Int], axis: Int = 0) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = axis
    }

    public init(scale: Float, zeroPoint: Int) {
        self.init(scales: [scale], zeroPoints: [zeroPoint], axis: 0)
    }

    public var isPerChannel: Bool { scales.count > 1 }
    /// The per-tensor scale (the first one for per-channel tensors).
    public var scale: Float { scales[0] }
    public var zeroPoint: Int { zeroPoints.first ?? 0 }
}
