import MicrogenIR
import XCTest
@testable import MicrogenFrontend

/// Small models written field by field: what the importer reads, the schema defaults it
/// applies, and the message for each thing that can be wrong in a well-formed flatbuffer.
final class SyntheticModelTests: XCTestCase {
    typealias Spec = TestModel.TensorSpec

    // MARK: what is read

    func testConvModelImports() throws {
        let graph = try importTest(TestModel.conv())
        XCTAssertEqual(graph.name, "test")
        XCTAssertEqual(graph.tensors.count, 4)
        XCTAssertEqual(graph.inputs, [0])
        XCTAssertEqual(graph.outputs, [3])
        XCTAssertEqual(graph.operators, [Operator(kind: .conv2D, inputs: [0, 1, 2], outputs: [3], options: .conv2D(
            Conv2DOptions(padding: .same, strideW: 1, strideH: 1, dilationW: 1, dilationH: 1, activation: .relu)))])
        let input = graph.tensors[0]
        XCTAssertEqual(input.name, "input")
        XCTAssertEqual(input.dataType, .int8)
        XCTAssertEqual(input.shape, [1, 4, 4, 2])
        XCTAssertNil(input.data, "an empty buffer other than 0 is not constant data either")
        XCTAssertEqual(input.quantization, Quantization(scale: 0.5, zeroPoint: -1))
        let filter = graph.tensors[1]
        XCTAssertEqual(filter.data, (0..<54).map { UInt8($0) })
        XCTAssertEqual(filter.quantization, Quantization(scales: [0.1, 0.2, 0.3], zeroPoints: [0, 0, 0], axis: 0))
        XCTAssertEqual(graph.tensors[2].dataType, .int32)
        XCTAssertEqual(graph.tensors[2].int32Values(), [0x01010101, 0x01010101, 0x01010101])
    }

    func testMissingZeroPointsReadAsZero() throws {
        var model = TestModel.conv()
        model.tensors[1].zeroPoints = nil
        XCTAssertEqual(try importTest(model).tensors[1].quantization?.zeroPoints, [0, 0, 0])
    }

    func testFloatTensorWithEmptyQuantizationIsNotQuantized() throws {
        var model = TestModel.single(builtin: 19, type: TestModel.float32)  // RELU
        model.tensors[0].scales = []
        let graph = try importTest(model)
        XCTAssertEqual(graph.operators.first?.kind, .relu)
        XCTAssertNil(graph.tensors[0].quantization)
        XCTAssertEqual(graph.tensors[0].dataType, .float32)
    }

    func testBuiltinCodeIsTheLargerOfBothFields() throws {
        var old = TestModel.conv()
        old.codes = [.init(builtin: 3, deprecatedOnly: true)]
        XCTAssertEqual(try importTest(old).operators.first?.kind, .conv2D)

        // HARD_SWISH (117) fits the byte; GELU (150) only fits builtin_code, the byte holds 127.
        XCTAssertEqual(try importTest(TestModel.single(builtin: 117)).operators.first?.kind, .hardSwish)
        assertImportFails(TestModel.single(builtin: 150).bytes(), kind: .unsupported, "unsupported operators: GELU ×1")
    }

    func testExtraSubgraphsAreIgnoredWhenNothingCallsThem() throws {
        var model = TestModel.conv()
        model.extraSubgraphs = 2
        XCTAssertEqual(try importTest(model).operators.count, 1)
    }

    func testSubgraphCallsAreRefused() {
        var model = TestModel.conv()
        model.extraSubgraphs = 2
        model.append(builtin: 119, inputs: [3])  // WHILE
        assertImportFails(model.bytes(), kind: .unsupported, "3 subgraphs", "operator 1 (WHILE)", "only subgraph 0")
    }

    /// Large models keep buffer data after the flatbuffer, at [offset, offset + size) of the file.
    func testBufferDataAfterTheFlatbuffer() throws {
        var model = TestModel.conv()
        let weights = (0..<54).map { UInt8(200 - $0) }
        model.buffers[2] = .init(data: nil, offset: 0xFFFF_FFFF, size: 54)
        let flatbufferSize = model.bytes().count  // the placeholder has the same width as the real offset
        let start = (flatbufferSize + 15) / 16 * 16
        model.buffers[2].offset = UInt64(start)
        model.trailer = [UInt8](repeating: 0xEE, count: start - flatbufferSize) + weights + [1, 2, 3]
        XCTAssertEqual(try importTest(model).tensors[1].data, weights)

        model.buffers[2].size = 60
        model.trailer = Array(model.trailer.prefix(start - flatbufferSize + 50))
        assertImportFails(model.bytes(), kind: .malformedModel, "buffer 2", "outside the file")

        model.buffers[2].offset = UInt64.max - 4
        assertImportFails(model.bytes(), kind: .malformedModel, "buffer 2", "outside the file")
    }

    /// Offset 1 is the converter's "no data here" placeholder: the tensor is an activation.
    func testBufferOffsetOneMeansNoData() throws {
        var model = TestModel.conv()
        model.buffers[1] = .init(data: nil, offset: 1, size: 0)
        XCTAssertNil(try importTest(model).tensors[0].data)
    }

    // MARK: options and their schema defaults

    func testConvDilationDefaultsToOne() throws {
        let model = TestModel.conv(options: FBTable([0: .int8(1), 1: .int32(2), 2: .int32(3)]))
        XCTAssertEqual(try importTest(model).operators[0].options, .conv2D(
            Conv2DOptions(padding: .valid, strideW: 2, strideH: 3, dilationW: 1, dilationH: 1, activation: .none)))
        let dilated = TestModel.conv(options: FBTable([1: .int32(1), 2: .int32(1), 4: .int32(2), 5: .int32(3), 3: .int8(3)]))
        XCTAssertEqual(try importTest(dilated).operators[0].options, .conv2D(
            Conv2DOptions(padding: .same, strideW: 1, strideH: 1, dilationW: 2, dilationH: 3, activation: .relu6)))
    }

    /// The schema's stride default is 0, which cannot run: refused, naming the field.
    func testConvWithoutOptionsHasStrideZero() {
        assertImportFails(TestModel.conv(options: nil, optionsType: 0).bytes(), kind: .malformedModel,
                          "operator 0 (CONV_2D)", "stride_w = 0")
        assertImportFails(TestModel.conv(options: FBTable([1: .int32(1), 2: .int32(1), 4: .int32(0)])).bytes(),
                          kind: .malformedModel, "dilation_w_factor = 0")
    }

    func testOptionsOfTheWrongUnionTypeAreRefused() {
        let model = TestModel.conv(options: FBTable([1: .int32(1), 2: .int32(1)]), optionsType: 5)
        assertImportFails(model.bytes(), kind: .malformedModel, "operator 0 (CONV_2D)", "Conv2DOptions")
    }

    func testUnknownPaddingAndActivationCodesAreRefused() {
        assertImportFails(TestModel.conv(options: FBTable([0: .int8(7), 1: .int32(1), 2: .int32(1)])).bytes(),
                          kind: .malformedModel, "padding code 7")
        assertImportFails(TestModel.conv(options: FBTable([1: .int32(1), 2: .int32(1), 3: .int8(9)])).bytes(),
                          kind: .malformedModel, "fused activation code 9")
    }

    func depthwise(options: FBTable?, filterChannels: Int32 = 4) -> TestModel {
        var m = TestModel()
        m.codes = [.init(builtin: 4)]
        m.buffers = [.init(), .init(data: [UInt8](repeating: 3, count: 9 * Int(filterChannels)))]
        m.tensors = [
            Spec(name: "in", type: TestModel.int8, shape: [1, 5, 5, 2], scales: [1], zeroPoints: [0]),
            Spec(name: "w", type: TestModel.int8, shape: [1, 3, 3, filterChannels], buffer: 1,
                 scales: Array(repeating: 0.5, count: Int(filterChannels)), quantizedDimension: 3),
            Spec(name: "out", type: TestModel.int8, shape: [1, 5, 5, filterChannels], scales: [1], zeroPoints: [0]),
        ]
        m.operators = [.init(opcode: 0, inputs: [0, 1, -1], outputs: [2], optionsType: 2, options: options)]
        m.inputs = [0]
        m.outputs = [2]
        return m
    }

    func testDepthMultiplierComesFromShapesWhenAbsent() throws {
        let graph = try importTest(depthwise(options: FBTable([1: .int32(1), 2: .int32(1)])))
        XCTAssertEqual(graph.operators[0].options, .depthwiseConv2D(
            DepthwiseConv2DOptions(padding: .same, strideW: 1, strideH: 1, depthMultiplier: 2, activation: .none)))
        XCTAssertEqual(graph.operators[0].inputs, [0, 1, -1], "an omitted bias stays -1")
        XCTAssertEqual(graph.tensors[1].quantization?.axis, 3)

        let explicit = try importTest(depthwise(options: FBTable([1: .int32(2), 2: .int32(2), 3: .int32(2), 4: .int8(1), 5: .int32(2)])))
        XCTAssertEqual(explicit.operators[0].options, .depthwiseConv2D(
            DepthwiseConv2DOptions(padding: .same, strideW: 2, strideH: 2, dilationW: 2, dilationH: 1, depthMultiplier: 2, activation: .relu)))

        assertImportFails(depthwise(options: FBTable([1: .int32(1), 2: .int32(1), 3: .int32(3)])).bytes(),
                          kind: .malformedModel, "operator 0 (DEPTHWISE_CONV_2D)", "depth_multiplier 3", "multiplier 2")
        assertImportFails(depthwise(options: FBTable([1: .int32(1), 2: .int32(1)]), filterChannels: 3).bytes(),
                          kind: .malformedModel, "no depth_multiplier")
    }

    func testPoolOptions() throws {
        let options = FBTable([0: .int8(1), 1: .int32(2), 2: .int32(2), 3: .int32(3), 4: .int32(4), 5: .int8(1)])
        for (code, kind) in [(Int32(1), OpKind.averagePool2D), (17, .maxPool2D)] {
            let graph = try importTest(TestModel.single(builtin: code, shape: [1, 4, 4, 1], optionsType: 5, options: options))
            XCTAssertEqual(graph.operators[0].kind, kind)
            XCTAssertEqual(graph.operators[0].options, .pool2D(
                Pool2DOptions(padding: .valid, strideW: 2, strideH: 2, filterW: 3, filterH: 4, activation: .relu)))
        }
        assertImportFails(TestModel.single(builtin: 17, optionsType: 5, options: FBTable([1: .int32(1), 2: .int32(1)])).bytes(),
                          kind: .malformedModel, "operator 0 (MAX_POOL_2D)", "filter_width = 0")
    }

    func testFullyConnectedOptions() throws {
        let graph = try importTest(TestModel.single(builtin: 9, optionsType: 8, options: FBTable([0: .int8(3), 2: .bool(true)])))
        XCTAssertEqual(graph.operators[0].options, .fullyConnected(FullyConnectedOptions(activation: .relu6, keepNumDims: true)))
        XCTAssertEqual(try importTest(TestModel.single(builtin: 9)).operators[0].options,
                       .fullyConnected(FullyConnectedOptions(activation: .none, keepNumDims: false)))
        assertImportFails(TestModel.single(builtin: 9, optionsType: 8, options: FBTable([1: .int8(1)])).bytes(),
                          kind: .unsupported, "operator 0 (FULLY_CONNECTED)", "SHUFFLED4x16INT8", "only DEFAULT")
    }

    /// Absent options tables read as the schema defaults (all zero, false or empty).
    func testDefaultsWhenTheOptionsTableIsAbsent() throws {
        let cases: [(Int32, Int, OperatorOptions)] = [
            (25, 1, .softmax(beta: 0)),
            (2, 2, .concatenation(axis: 0, activation: .none)),
            (0, 2, .elementwise(activation: .none)),
            (41, 2, .elementwise(activation: .none)),
            (18, 2, .elementwise(activation: .none)),
            (40, 1, .reducer(keepDims: false)),
            (98, 1, .leakyRelu(alpha: 0)),
            (45, 1, .stridedSlice(StridedSliceOptions())),
            (22, 1, .reshape(newShape: [])),
            (43, 1, .squeeze(dims: [])),
            (14, 1, .none), (28, 1, .none), (19, 1, .none), (21, 1, .none), (117, 1, .none),
            (114, 1, .none), (6, 1, .none), (34, 1, .none), (39, 1, .none),
        ]
        for (code, inputs, expected) in cases {
            let graph = try importTest(TestModel.single(builtin: code, inputCount: inputs))
            XCTAssertEqual(graph.operators[0].options, expected, BuiltinOperatorNames.name(of: Int(code)))
            XCTAssertEqual(graph.operators[0].kind.rawValue, BuiltinOperatorNames.name(of: Int(code)))
        }
    }

    func testOptionsThatArePresent() throws {
        let cases: [(Int32, Int, UInt8, FBTable, OperatorOptions)] = [
            (25, 1, 9, FBTable([0: .float32(0.5)]), .softmax(beta: 0.5)),
            (2, 2, 10, FBTable([0: .int32(-1), 1: .int8(1)]), .concatenation(axis: -1, activation: .relu)),
            (0, 2, 11, FBTable([0: .int8(3), 1: .bool(false)]), .elementwise(activation: .relu6)),
            (41, 2, 28, FBTable([0: .int8(2)]), .elementwise(activation: .reluN1To1)),
            (18, 2, 21, FBTable([0: .int8(1)]), .elementwise(activation: .relu)),
            (40, 1, 27, FBTable([0: .bool(true)]), .reducer(keepDims: true)),
            (98, 1, 75, FBTable([0: .float32(0.125)]), .leakyRelu(alpha: 0.125)),
            (45, 1, 32, FBTable([0: .int32(1), 1: .int32(2), 2: .int32(4), 3: .int32(8), 4: .int32(16), 5: .bool(true)]),
             .stridedSlice(StridedSliceOptions(beginMask: 1, endMask: 2, ellipsisMask: 4, newAxisMask: 8, shrinkAxisMask: 16, offset: true))),
            (22, 1, 17, FBTable([0: .int32s([2, -1])]), .reshape(newShape: [2, -1])),
            (43, 1, 30, FBTable([0: .int32s([0, -2])]), .squeeze(dims: [0, -2])),
        ]
        for (code, inputs, type, table, expected) in cases {
            let graph = try importTest(TestModel.single(builtin: code, inputCount: inputs, optionsType: type, options: table))
            XCTAssertEqual(graph.operators[0].options, expected, BuiltinOperatorNames.name(of: Int(code)))
        }
    }

    // MARK: unsupported operators and types

    func testUnsupportedOperatorsAreListedWithCounts() {
        var model = TestModel.conv()
        let a = model.append(builtin: 66, inputs: [3])  // SIN
        let b = model.append(builtin: 36, inputs: [a])  // GATHER
        let c = model.append(builtin: 66, inputs: [b])
        let d = model.append(builtin: 32, custom: "MyOp", inputs: [c])
        model.outputs = [d]
        let message = assertImportFails(model.bytes(), kind: .unsupported,
                                        "unsupported operators: SIN ×2, GATHER ×1, CUSTOM 'MyOp' ×1 (microgen supports: CONV_2D, ")
        XCTAssertTrue(message.contains("STRIDED_SLICE)"), message)
        XCTAssertFalse(message.contains("CONV_2D ×"), message)
    }

    func testOperatorsNewerThanTheNameTableAreNamedByCode() {
        assertImportFails(TestModel.single(builtin: 4000).bytes(), kind: .unsupported, "BUILTIN_OPERATOR_4000 ×1")
    }

    func testNonInt8ActivationsAreListedTogether() {
        var model = TestModel.single(builtin: 19, type: TestModel.int16)
        model.append(builtin: 19, inputs: [1], type: TestModel.uint8)
        model.outputs = [2]
        assertImportFails(model.bytes(), kind: .unsupported,
                          "activations must be int8 or float32", "int16 activation ×2 (tensor 0 'in0', tensor 1 'out')",
                          "uint8 activation ×1 (tensor 2 't2')")
    }

    /// Issue 11: one refusal names the unsupported operator and the unsupported types together.
    func testUnsupportedOperatorsAndTypesAreReportedTogether() {
        var model = TestModel.single(builtin: 19, type: TestModel.int16)
        model.append(builtin: 66, inputs: [1])
        model.outputs = [2]
        assertImportFails(model.bytes(), kind: .unsupported, "unsupported operators: SIN ×1",
                          "; unsupported tensor types (activations must be int8 or float32): int16 activation ×2 (tensor 0 'in0', tensor 1 'out')")
    }

    /// Many offenders: counts and the first few names, so the message stays one short line.
    func testRefusalOfManyTensorsAndOperatorsIsBounded() {
        var model = TestModel.single(builtin: 19, type: TestModel.int16)
        model.tensors[0].name = String(repeating: "n", count: 5000)
        var last: Int32 = 1
        for k in 0..<200 {
            last = model.append(builtin: 66, inputs: [last], type: TestModel.int16)
            last = model.append(builtin: 0, custom: nil, inputs: [last, last], type: TestModel.int16)
            if k < 10 { last = model.append(builtin: 32, custom: "custom\(k)", inputs: [last], type: TestModel.int16) }
        }
        model.outputs = [last]
        let message = assertImportFails(model.bytes(), kind: .unsupported, "SIN ×200", "CUSTOM 'custom0' ×1",
                                        "CUSTOM 'custom4' ×1 and 5 more", "int16 activation ×412 (tensor 0 'nnn", "and 409 more")
        XCTAssertFalse(message.contains("\n"), message)
        XCTAssertLessThan(message.count, 900, message)
        XCTAssertFalse(message.contains(String(repeating: "n", count: 49)), "a name is cut short: \(message)")
    }

    func testUnrepresentableTypesAreNamed() {
        var model = TestModel.single(builtin: 19, type: TestModel.string)
        model.tensors[0].scales = nil
        assertImportFails(model.bytes(), kind: .unsupported, "STRING activation ×2 (tensor 0 'in0', tensor 1 'out')")
        var unknown = TestModel.single(builtin: 19)
        unknown.tensors[1].type = 99
        assertImportFails(unknown.bytes(), kind: .malformedModel, "tensor 1 'out'", "unknown tensor type code 99")
    }

    func testInt8ActivationsNeedValidQuantization() {
        var model = TestModel.conv()
        model.tensors[0].scales = nil
        model.tensors[3].zeroPoints = [300]
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 0 'input' has no quantization parameters",
                          "tensor 3 'output' has zero point 300")
        model = TestModel.conv()
        model.tensors[3].scales = [0]
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 3 'output' has scale 0.0")
        model = TestModel.conv()
        model.tensors[0].scales = [0.5, 0.5]
        model.tensors[0].zeroPoints = [0, 0]
        model.tensors[0].quantizedDimension = 0
        model.tensors[0].shape = [2, 4, 4, 2]
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 0 'input' has 2 per-channel scales")
    }

    func testComputedInt32ReshapeShapeIsAccepted() throws {
        var model = TestModel.single(builtin: 22, inputCount: 2)
        model.tensors[1] = Spec(name: "shape", type: TestModel.int32, shape: [2])
        let graph = try importTest(model)
        XCTAssertEqual(graph.tensors[1].dataType, .int32)
        XCTAssertFalse(graph.tensors[1].isConstant)

        // The same int32 tensor fed to anything but RESHAPE's shape input is refused.
        model.codes = [.init(builtin: 0)]
        assertImportFails(model.bytes(), kind: .unsupported, "int32 activation ×1 (tensor 1 'shape')")
    }

    func testSparseTensorsAreRefused() {
        var model = TestModel.conv()
        model.tensors[1].extra[6] = .table(FBTable([0: .int32s([0, 1, 2, 3])]))
        assertImportFails(model.bytes(), kind: .unsupported, "tensor 1 'filter'", "sparse")
    }

    func testSchemaVersionOtherThanThreeIsRefused() {
        var model = TestModel.conv()
        model.version = 2
        assertImportFails(model.bytes(), kind: .unsupported, "schema version 2")
    }

    // MARK: indices out of range

    func testTensorIndexOutOfRangeNamesTheOperator() {
        var model = TestModel.conv()
        model.operators[0].inputs = [0, 9, 2]
        assertImportFails(model.bytes(), kind: .malformedModel, "operator 0 (CONV_2D) input 1 refers to tensor 9", "only 4 tensors")
        model.operators[0].inputs = [0, 1, -2]
        assertImportFails(model.bytes(), kind: .malformedModel, "operator 0 (CONV_2D) input 2 refers to tensor -2")
        model = TestModel.conv()
        model.operators[0].outputs = [-1]
        assertImportFails(model.bytes(), kind: .malformedModel, "operator 0 (CONV_2D) output 0 refers to tensor -1")
    }

    func testGraphInputOrOutputOutOfRange() {
        var model = TestModel.conv()
        model.inputs = [4]
        assertImportFails(model.bytes(), kind: .malformedModel, "model input 0 refers to tensor 4")
        model = TestModel.conv()
        model.outputs = [3, 100]
        assertImportFails(model.bytes(), kind: .malformedModel, "model output 1 refers to tensor 100")
    }

    func testBufferIndexOutOfRangeNamesTheTensor() {
        var model = TestModel.conv()
        model.tensors[1].buffer = 7
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 1 'filter' refers to buffer 7", "only 5 buffers")
    }

    func testOpcodeIndexOutOfRange() {
        var model = TestModel.conv()
        model.operators[0].opcode = 3
        assertImportFails(model.bytes(), kind: .malformedModel, "operator 0 uses operator code index 3", "only 1 operator codes")
    }

    // MARK: tensors

    func testNegativeAndHugeDimensions() {
        var model = TestModel.conv()
        model.tensors[3].shape = [1, -1, 4, 3]
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 3 'output'", "negative dimension", "[1, -1, 4, 3]")
        model.tensors[3].shape = [65536, 65536, 65536, 3]
        assertImportFails(model.bytes(), kind: .unsupported, "tensor 3 'output'", "65536x65536x65536x3")
        model.tensors[3].shape = [Int32.max, Int32.max, Int32.max, Int32.max, Int32.max, Int32.max]
        assertImportFails(model.bytes(), kind: .unsupported, "tensor 3 'output'")
        model.tensors[3].shape = Array(repeating: 1, count: 17)
        assertImportFails(model.bytes(), kind: .unsupported, "tensor 3", "rank 17")
    }

    func testConstantDataSizeMustMatchTheShape() {
        var model = TestModel.conv()
        model.buffers[2].data = [UInt8](repeating: 0, count: 50)
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 1 'filter' (int8, shape 3x3x3x2) needs 54 bytes", "buffer 2 holds 50")
        model = TestModel.conv()
        model.buffers[3].data = [UInt8](repeating: 0, count: 3)
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 2 'bias' (int32, shape 3) needs 12 bytes")
    }

    func testPerChannelParametersMustMatchTheShape() {
        var model = TestModel.conv()
        model.tensors[1].quantizedDimension = 3
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 1 'filter' has 3 per-channel scales along quantized_dimension 3", "size 2")
        model.tensors[1].quantizedDimension = 9
        assertImportFails(model.bytes(), kind: .malformedModel, "has no dimension 9")
        model = TestModel.conv()
        model.tensors[1].zeroPoints = [0, 0]
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 1 'filter' has 3 quantization scales but 2 zero points")
    }

    func testNoSubgraph() {
        var model = TestModel.conv()
        model.hasSubgraphs = false
        assertImportFails(model.bytes(), kind: .malformedModel, "no subgraph")
        var empty = TestModel.conv()
        empty.hasSubgraphs = true
        var table = empty.table()
        table[2] = .tables([])
        assertImportFails(FlatBufferTestWriter.serialize(table), kind: .malformedModel, "no subgraph")
    }

    // MARK: data flow

    func testReadBeforeWriteAndDoubleWrite() {
        var model = TestModel.conv()
        model.inputs = []
        assertImportFails(model.bytes(), kind: .malformedModel, "operator 0 (CONV_2D) reads tensor 0 'input' before any operator writes it")
        model = TestModel.conv()
        model.append(builtin: 19, inputs: [3])
        model.operators[1].outputs = [3]
        assertImportFails(model.bytes(), kind: .malformedModel, "operator 1 (RELU) writes tensor 3 'output', which already has a value")
        model = TestModel.conv()
        model.operators[0].outputs = [1]
        assertImportFails(model.bytes(), kind: .malformedModel, "operator 0 (CONV_2D) writes tensor 1 'filter', which is a constant")
        model = TestModel.conv()
        model.operators = []
        assertImportFails(model.bytes(), kind: .malformedModel, "model output tensor 3 'output' is never written")
    }
}
