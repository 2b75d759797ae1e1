import Foundation
import MicrogenIR
import XCTest
@testable import MicrogenFrontend

/// The models in Tests/Fixtures/bad/ (written by tools/refgen/bad_models.py with the Python
/// flatbuffers package, so a second writer than ours): each must be refused with a message
/// that names what is wrong.
final class BadFixtureTests: XCTestCase {
    func fixture(_ name: String) throws -> [UInt8] {
        try TestPaths.bytes(TestPaths.badFixtures.appendingPathComponent(name))
    }

    /// FULLY_CONNECTED with int16 input and output: both activations are named in one message;
    /// the int8 weights and int64 bias are constants and are not.
    func testInt16Activations() throws {
        let message = assertImportFails(try fixture("int16_activations.tflite"), name: "int16_activations", kind: .unsupported,
                                        "int16_activations:", "activations must be int8 or float32",
                                        "int16 activation ×2 (tensor 0 'fc_in', tensor 3 'fc_out')")
        XCTAssertFalse(message.contains("fc_weights"), message)
        XCTAssertFalse(message.contains("fc_bias"), message)
    }

    /// SIN -> SIN -> GATHER -> RELU: the two unsupported kinds with their counts, RELU not among them.
    func testUnsupportedOperators() throws {
        let message = assertImportFails(try fixture("unsupported_ops.tflite"), kind: .unsupported,
                                        "unsupported operators: SIN ×2, GATHER ×1 (microgen supports: ")
        let listed = message.components(separatedBy: "(microgen supports:")[0]
        XCTAssertFalse(listed.contains("RELU"), message)
    }

    func testTensorIndexOutOfRange() throws {
        assertImportFails(try fixture("tensor_index_out_of_range.tflite"), kind: .malformedModel,
                          "operator 0 (ADD) input 1 refers to tensor 7", "only 3 tensors")
    }

    func testBufferIndexOutOfRange() throws {
        assertImportFails(try fixture("buffer_index_out_of_range.tflite"), kind: .malformedModel,
                          "tensor 1 'weights' refers to buffer 9", "only 3 buffers")
    }
}
