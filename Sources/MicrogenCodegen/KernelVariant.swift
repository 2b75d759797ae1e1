import MicrogenIR

/// Every implementation a lowering chooses between for one operator, where there is a choice:
/// the kernel, and within the fast kernels the requantization form or the chunking. Each
/// lowering records what it emitted (`LoweredOperator.variants`, then `CompiledOperator.variants`),
/// so tests can check that every variant listed here is compared with TensorFlow Lite Micro.
/// Operators with a single implementation per data type (pooling, softmax, ...) record nothing.
/// Not listed: the residual ADD fused into the fast convolution, a property of a two-operator
/// graph that no one-operator fixture has (ResidualFusionTests compares it with the unfused
/// program, ReferenceModelTests with TFLM on pretrainedResnet_quant).
public enum KernelVariant: String, CaseIterable, Sendable, Comparable {
    /// The lowering families with more than one implementation.
    public enum Family: Sendable {
        case convolution, depthwise, fullyConnected, elementwise
    }

    // CONV_2D
    case convF32 = "conv.f32"
    /// mg_conv_s8, the reference int8 kernel, on an ungrouped convolution (the fast kernel's
    /// unless forced).
    case convS8Reference = "conv.s8.reference"
    /// mg_conv_s8 on a grouped convolution (filter channels < input channels): the only kernel
    /// for it.
    case convS8Grouped = "conv.s8.grouped"
    /// mg_conv_fast.h with the "times 256" form (two pixels at a time).
    case convS8FastX256 = "conv.s8.fast.x256"
    case convS8FastDoubled = "conv.s8.fast.doubled"
    case convS8FastWide = "conv.s8.fast.wide"
    case convS8FastGeneral = "conv.s8.fast.general"
    /// How the fast kernel gathers patches (chosen from the shape, recorded beside the form):
    /// pixels read in place (1x1, unpadded, channels a multiple of 4), whole filter rows, or
    /// patches assembled byte by byte.
    case convS8GatherPoint = "conv.s8.fast.gather.point"
    case convS8GatherRows = "conv.s8.fast.gather.rows"
    case convS8GatherPatch = "conv.s8.fast.gather.patch"

    // DEPTHWISE_CONV_2D
    case depthwiseF32 = "depthwise.f32"
    /// mg_depthwise_conv_s8: any filter, stride and dilation.
    case depthwiseS8Reference = "depthwise.s8.reference"
    /// mg_depthwise_3x3.h with the three-instruction requantization.
    case depthwiseS8x3x3Fast = "depthwise.s8.3x3.fast"
    /// mg_depthwise_3x3.h with TFLM's requantization.
    case depthwiseS8x3x3Exact = "depthwise.s8.3x3.exact"

    // FULLY_CONNECTED
    case fullyConnectedF32 = "fc.f32"
    /// mg_fully_connected_s8: any weight zero point.
    case fullyConnectedS8Reference = "fc.s8.reference"
    case fullyConnectedS8FastX256 = "fc.s8.fast.x256"
    case fullyConnectedS8FastDoubled = "fc.s8.fast.doubled"
    case fullyConnectedS8FastWide = "fc.s8.fast.wide"
    case fullyConnectedS8FastGeneral = "fc.s8.fast.general"
    /// The fast kernel widening the input row a chunk at a time (with any requantization form).
    case fullyConnectedS8FastChunked = "fc.s8.fast.chunked"

    // ADD, SUB, MUL
    case elementwiseF32 = "elementwise.f32"
    case mulS8 = "mul.s8"
    /// mg_addsub_lut_s8 with the three-instruction output requantization (`fast = 1`).
    case addSubS8TableFast = "addsub.s8.table.fast"
    /// mg_addsub_lut_s8 with TFLM's output requantization (`fast = 0`).
    case addSubS8TableExact = "addsub.s8.table.exact"

    public var family: Family {
        switch self {
        case .convF32, .convS8Reference, .convS8Grouped, .convS8FastX256, .convS8FastDoubled, .convS8FastWide, .convS8FastGeneral,
             .convS8GatherPoint, .convS8GatherRows, .convS8GatherPatch:
            return .convolution
        case .depthwiseF32, .depthwiseS8Reference, .depthwiseS8x3x3Fast, .depthwiseS8x3x3Exact:
            return .depthwise
        case .fullyConnectedF32, .fullyConnectedS8Reference, .fullyConnectedS8FastX256, .fullyConnectedS8FastDoubled,
             .fullyConnectedS8FastWide, .fullyConnectedS8FastGeneral, .fullyConnectedS8FastChunked:
            return .fullyConnected
        case .elementwiseF32, .mulS8, .addSubS8TableFast, .addSubS8TableExact:
            return .elementwise
        }
    }

    public static func < (a: KernelVariant, b: KernelVariant) -> Bool { a.rawValue < b.rawValue }

    /// The fast convolution variant computing with `mode`.
    static func fastConvolution(_ mode: PackedRequantization.Mode) -> KernelVariant {
        switch mode {
        case .x256: return .convS8FastX256
        case .doubled: return .convS8FastDoubled
        case .wide: return .convS8FastWide
        case .general: return .convS8FastGeneral
        }
    }

    static func fastFullyConnected(_ mode: PackedRequantization.Mode) -> KernelVariant {
        switch mode {
        case .x256: return .fullyConnectedS8FastX256
        case .doubled: return .fullyConnectedS8FastDoubled
        case .wide: return .fullyConnectedS8FastWide
        case .general: return .fullyConnectedS8FastGeneral
        }
    }

    /// The requantization form a forced fast variant asks for (nil: none forced).
    static func forcedRequantization(_ family: Family) -> PackedRequantization.Mode? {
        for variant in forced where variant.family == family {
            switch variant {
            case .convS8FastX256, .fullyConnectedS8FastX256: return .x256
            case .convS8FastDoubled, .fullyConnectedS8FastDoubled: return .doubled
            case .convS8FastWide, .fullyConnectedS8FastWide: return .wide
            case .convS8FastGeneral, .fullyConnectedS8FastGeneral: return .general
            default: continue
            }
        }
        return nil
    }

    /// Variants a test forces (`CompileOptions.forcedVariants`) while one model compiles. A task
    /// local, because the lowerings' scratch sizing and emission both have to see it and their
    /// protocol passes only the operator and the graph. Empty (the lowering's own choice) except
    /// inside `ModelCompiler.compile` of a test's options; the CLI cannot set it.
    @TaskLocal static var forced: Set<KernelVariant> = []

    static func isForced(_ variant: KernelVariant) -> Bool { forced.contains(variant) }

    /// Throws unless every forced variant of `family` is among those the lowering `chose`:
    /// a forced variant that does not apply to an operator is refused, never silently ignored.
    static func honour(_ chosen: [KernelVariant], family: Family, label: String) throws {
        let missed = forced.filter { $0.family == family && !chosen.contains($0) }.sorted()
        guard missed.isEmpty else {
            throw MicrogenError(.unsupported, "\(label): forced kernel variant \(missed.map(\.rawValue).joined(separator: ", ")) "
                + "does not apply to this operator (it takes \(chosen.map(\.rawValue).joined(separator: ", ")))")
        }
    }
}
