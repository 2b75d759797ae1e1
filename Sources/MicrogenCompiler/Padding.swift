import MicrogenIR

/// Output size and leading padding of one spatial dimension, as TFLite computes them.
public struct SpatialPadding: Sendable, Hashable {
    public var outputSize: Int
    /// Padding before the first element (top or left). TFLite puts any odd extra at the end.
    public var before: Int
    /// Total padding (before + after).
    public var total: Int
}

public func spatialPadding(_ padding: Padding, inputSize: Int, filterSize: Int, stride: Int, dilation: Int = 1) -> SpatialPadding {
    let effectiveFilter = (filterSize - 1) * dilation + 1
    let outputSize: Int
    switch padding {
    case .same: outputSize = (inputSize + stride - 1) / stride
    case .valid: outputSize = (inputSize + stride - effectiveFilter) / stride
    }
    let total = max(0, (outputSize - 1) * stride + effectiveFilter - inputSize)
    return SpatialPadding(outputSize: outputSize, before: total / 2, total: total)
}
