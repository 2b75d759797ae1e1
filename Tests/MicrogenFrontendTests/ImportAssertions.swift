import MicrogenIR
import XCTest
@testable import MicrogenFrontend

/// Imports `bytes` and checks that it fails with `kind` and a message holding every fragment.
/// Returns the message so a test can check more.
@discardableResult
func assertImportFails(_ bytes: [UInt8], name: String = "test", kind: MicrogenError.Kind, _ fragments: String...,
                       file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        let graph = try TFLiteImporter.importModel(bytes: bytes, name: name)
        XCTFail("import succeeded with \(graph.operators.count) operators; expected a \(kind.rawValue) error", file: file, line: line)
        return ""
    } catch let error as MicrogenError {
        XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.message.contains(fragment), "message lacks '\(fragment)': \(error.message)", file: file, line: line)
        }
        return error.message
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
        return ""
    }
}

func importTest(_ model: TestModel) throws -> Graph {
    try TFLiteImporter.importModel(bytes: model.bytes(), name: "test")
}
