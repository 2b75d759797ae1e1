import Foundation
import MicrogenIR
import XCTest
@testable import MicrogenFrontend

/// Imports the MLPerf Tiny reference models and compares them with their README (operator
/// counts) and each model's manifest (I/O shapes, types, quantization, per-operator outputs).
final class ReferenceModelTests: XCTestCase {
    /// Operator counts from models/mlperf/README.md.
    static let expectedOperators: [String: [OpKind: Int]] = {
        let kws: [OpKind: Int] = [.conv2D: 5, .depthwiseConv2D: 4, .averagePool2D: 1, .reshape: 1, .fullyConnected: 1, .softmax: 1]
        let vww: [OpKind: Int] = [.conv2D: 14, .depthwiseConv2D: 13, .averagePool2D: 1, .reshape: 1, .fullyConnected: 1, .softmax: 1]
        let resnet: [OpKind: Int] = [.conv2D: 9, .add: 3, .averagePool2D: 1, .reshape: 1, .fullyConnected: 1, .softmax: 1]
        let ad: [OpKind: Int] = [.fullyConnected: 10]
        return [
            "kws_ref_model": kws, "kws_ref_model_float32": kws,
            "vww_96_int8": vww, "vww_96_float": vww,
            "pretrainedResnet_quant": resnet, "pretrainedResnet": resnet,
            "ad01_int8": ad, "ad01_fp32": ad,
        ]
    }()

    static let int8Models = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]
    static let floatModels = ["kws_ref_model_float32", "vww_96_float", "pretrainedResnet", "ad01_fp32"]

    func load(_ name: String) throws -> Graph {
        try TFLiteImporter.load(path: TestPaths.model(name).path)
    }

    func testOperatorCountsMatchTheReadme() throws {
        for name in Self.int8Models + Self.floatModels {
            let graph = try load(name)
            var counts: [OpKind: Int] = [:]
            for op in graph.operators { counts[op.kind, default: 0] += 1 }
            XCTAssertEqual(counts, Self.expectedOperators[name], name)
            XCTAssertEqual(graph.name, name)
        }
    }

    func testInputsAndOutputsMatchTheManifests() throws {
        for name in Self.int8Models + Self.floatModels {
            let graph = try load(name)
            let manifest = try ReferenceManifest(contentsOf: TestPaths.manifest(name))
            XCTAssertEqual(graph.inputs.count, manifest.inputs.count, name)
            XCTAssertEqual(graph.outputs.count, manifest.outputs.count, name)
            for (index, info) in Array(zip(graph.inputs, manifest.inputs)) + Array(zip(graph.outputs, manifest.outputs)) {
                let tensor = graph.tensors[index]
                let what = "\(name) tensor \(index)"
                XCTAssertEqual(tensor.name, info.name, what)
                XCTAssertEqual(tensor.shape, info.shape, what)
                XCTAssertEqual(tensor.dataType.rawValue, info.dtype, what)
                XCTAssertFalse(tensor.isConstant, what)
                if info.scale == 0 {
                    XCTAssertNil(tensor.quantization, what)
                } else {
                    let q = try XCTUnwrap(tensor.quantization, what)
                    XCTAssertEqual(q.scales, [Float(info.scale)], what)
                    XCTAssertEqual(q.zeroPoints, [info.zeroPoint], what)
                }
            }
        }
    }

    /// The manifest lists each operator's output tensor by index and name: the importer must
    /// keep TFLite's operator order and tensor numbering.
    func testOperatorOutputsMatchTheManifestIntermediates() throws {
        for name in Self.int8Models {
            let graph = try load(name)
            let manifest = try ReferenceManifest(contentsOf: TestPaths.manifest(name))
            XCTAssertEqual(manifest.intermediates.count, graph.operators.count, name)
            for entry in manifest.intermediates {
                let op = graph.operators[entry.opIndex]
                XCTAssertEqual(op.kind.rawValue, entry.op, "\(name) operator \(entry.opIndex)")
                XCTAssertEqual(op.outputs, [entry.tensorIndex], "\(name) operator \(entry.opIndex)")
                XCTAssertEqual(graph.tensors[entry.tensorIndex].name, entry.tensorName)
            }
        }
    }

    /// Conv filters carry one scale per output channel along axis 0; depthwise filters along
    /// their last axis; biases are int32 constants with one value per output channel.
    func testPerChannelWeightQuantization() throws {
        for name in ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant"] {
            let graph = try load(name)
            var convs = 0
            for (index, op) in graph.operators.enumerated() where op.kind == .conv2D || op.kind == .depthwiseConv2D {
                let what = "\(name) operator \(index) (\(op.kind.rawValue))"
                let filter = graph.tensors[op.inputs[1]]
                let output = graph.tensors[op.outputs[0]]
                let channels = try XCTUnwrap(output.shape.last, what)
                XCTAssertTrue(filter.isConstant, what)
                XCTAssertEqual(filter.dataType, .int8, what)
                XCTAssertEqual(filter.data?.count, filter.byteCount, what)
                let q = try XCTUnwrap(filter.quantization, what)
                XCTAssertEqual(q.scales.count, channels, what)
                XCTAssertEqual(q.zeroPoints, Array(repeating: 0, count: channels), what)
                if op.kind == .conv2D {
                    XCTAssertEqual(q.axis, 0, what)
                    XCTAssertEqual(filter.shape[0], channels, what)
                    convs += 1
                } else {
                    XCTAssertEqual(q.axis, 3, what)
                }
                let bias = graph.tensors[op.inputs[2]]
                XCTAssertEqual(bias.dataType, .int32, what)
                XCTAssertEqual(bias.shape, [channels], what)
                XCTAssertEqual(bias.int32Values().count, channels, what)
            }
            XCTAssertGreaterThan(convs, 0, name)
        }
    }

    func testOptionsOfKeywordSpotting() throws {
        let graph = try load("kws_ref_model")
        guard case .conv2D(let first) = graph.operators[0].options else { return XCTFail("\(graph.operators[0].options)") }
        XCTAssertEqual(first, Conv2DOptions(padding: .same, strideW: 2, strideH: 2, dilationW: 1, dilationH: 1, activation: .relu))
        guard case .depthwiseConv2D(let depthwise) = graph.operators[1].options else { return XCTFail("\(graph.operators[1].options)") }
        XCTAssertEqual(depthwise, DepthwiseConv2DOptions(padding: .same, strideW: 1, strideH: 1, depthMultiplier: 1, activation: .relu))
        guard case .pool2D(let pool) = graph.operators[9].options else { return XCTFail("\(graph.operators[9].options)") }
        XCTAssertEqual(pool, Pool2DOptions(padding: .valid, strideW: 5, strideH: 25, filterW: 5, filterH: 25, activation: .none))
        // This RESHAPE has no options table: the shape comes from its second input.
        XCTAssertEqual(graph.operators[10].options, .reshape(newShape: []))
        XCTAssertEqual(graph.operators[10].inputs.count, 2)
        XCTAssertTrue(graph.tensors[graph.operators[10].inputs[1]].isConstant)
        XCTAssertEqual(graph.tensors[graph.operators[10].inputs[1]].integerValues(), [-1, 64])
        XCTAssertEqual(graph.operators[12].options, .softmax(beta: 1.0))
    }

    func testOptionsOfAnomalyDetection() throws {
        let graph = try load("ad01_int8")
        XCTAssertEqual(graph.operators[0].options, .fullyConnected(FullyConnectedOptions(activation: .relu, keepNumDims: false)))
        XCTAssertEqual(graph.tensors[graph.operators[0].inputs[1]].shape, [128, 640])
        let weights = graph.tensors[graph.operators[0].inputs[1]]
        XCTAssertEqual(weights.data?.count, 128 * 640)
    }

    /// The hybrid float model keeps int8 weights as constants: that is for later stages to refuse.
    func testHybridFloatModelImports() throws {
        let graph = try load("kws_ref_model_float32")
        XCTAssertEqual(graph.tensors[graph.inputs[0]].dataType, .float32)
        let filter = graph.tensors[graph.operators[0].inputs[1]]
        XCTAssertTrue(filter.isConstant)
        XCTAssertEqual(filter.data?.count, filter.byteCount)
    }

    /// Every activation of the int8 models is int8; of the float models float32.
    func testActivationTypes() throws {
        for (names, type) in [(Self.int8Models, DataType.int8), (Self.floatModels, .float32)] {
            for name in names {
                let graph = try load(name)
                for op in graph.operators {
                    for t in op.outputs { XCTAssertEqual(graph.tensors[t].dataType, type, "\(name) tensor \(t)") }
                }
            }
        }
    }

    func testMissingFileIsAnIOError() {
        XCTAssertThrowsError(try TFLiteImporter.load(path: "/nonexistent/model.tflite")) { error in
            let e = error as? MicrogenError
            XCTAssertEqual(e?.kind, .io)
            XCTAssertTrue(e?.message.contains("/nonexistent/model.tflite") ?? false, "\(error)")
        }
    }
}
