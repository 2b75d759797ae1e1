import Foundation
import MicrogenIR
import XCTest
@testable import MicrogenFrontend

/// Imports every single-operator fixture (Tests/Fixtures/ops/<op>/<variant>/model.tflite,
/// written by tools/refgen with the Python flatbuffers package) and checks it against its
/// case.json: one operator of the named kind, inputs and output with the listed shape, type
/// and quantization.
final class OpFixtureTests: XCTestCase {
    struct Case {
        var directory: URL
        var json: [String: Any]
    }

    func cases() throws -> [Case] {
        let root = TestPaths.repoRoot.appendingPathComponent("Tests/Fixtures/ops")
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil),
                                       "no operator fixtures at \(root.path)")
        var found: [Case] = []
        for case let url as URL in enumerator where url.lastPathComponent == "case.json" {
            let directory = url.deletingLastPathComponent()
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
            found.append(Case(directory: directory, json: json))
        }
        XCTAssertFalse(found.isEmpty, "no operator fixtures at \(root.path)")
        return found.sorted { $0.directory.path < $1.directory.path }
    }

    func testEveryOperatorFixtureImports() throws {
        for fixture in try cases() {
            let what = fixture.directory.pathComponents.suffix(2).joined(separator: "/")
            let graph: Graph
            do {
                graph = try TFLiteImporter.load(path: fixture.directory.appendingPathComponent("model.tflite").path)
            } catch {
                XCTFail("\(what): \(error)")
                continue
            }
            XCTAssertEqual(graph.operators.count, 1, what)
            XCTAssertEqual(graph.operators.first?.kind.rawValue, fixture.json["op"] as? String, what)

            let inputs = fixture.json["inputs"] as? [[String: Any]] ?? []
            XCTAssertEqual(graph.inputs.count, inputs.count, what)
            for (index, info) in zip(graph.inputs, inputs) { check(graph.tensors[index], info, "\(what) input \(index)") }
            if let output = fixture.json["output"] as? [String: Any] {
                XCTAssertEqual(graph.outputs.count, 1, what)
                if let index = graph.outputs.first { check(graph.tensors[index], output, "\(what) output") }
            }
            // The model's inputs are the operator's non-constant inputs, in operator-input order.
            if let op = graph.operators.first {
                let live = op.inputs.filter { $0 >= 0 && !graph.tensors[$0].isConstant }
                XCTAssertEqual(live, graph.inputs, what)
            }
        }
    }

    private func check(_ tensor: Tensor, _ info: [String: Any], _ what: String) {
        XCTAssertEqual(tensor.shape, info["shape"] as? [Int], what)
        XCTAssertEqual(tensor.dataType.rawValue, info["dtype"] as? String, what)
        XCTAssertFalse(tensor.isConstant, what)
        if let scale = (info["scale"] as? NSNumber)?.floatValue {
            XCTAssertEqual(tensor.quantization?.scales, [scale], what)
            XCTAssertEqual(tensor.quantization?.zeroPoints, [info["zero_point"] as? Int ?? 0], what)
        }
    }
}
