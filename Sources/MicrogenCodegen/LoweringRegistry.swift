import MicrogenIR

/// Every kernel family microgen can emit, found by operator kind.
public enum LoweringRegistry {
    public static let all: [any KernelLowering] = [
        ConvLowering(),
        DepthwiseConvLowering(),
        FullyConnectedLowering(),
        PoolLowering(),
        SoftmaxLowering(),
        ElementwiseLowering(),
        MeanLowering(),
        ConcatenationLowering(),
        ActivationLowering(),
        QuantizeLowering(),
        PadLowering(),
        TransposeLowering(),
        StridedSliceLowering(),
    ]

    private static let byKind: [OpKind: any KernelLowering] = {
        var map: [OpKind: any KernelLowering] = [:]
        for lowering in all { for kind in lowering.kinds { map[kind] = lowering } }
        return map
    }()

    public static func lowering(for kind: OpKind) -> (any KernelLowering)? { byKind[kind] }
}
