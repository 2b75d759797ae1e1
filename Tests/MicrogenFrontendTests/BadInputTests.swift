import Foundation
import MicrogenIR
import XCTest
@testable import MicrogenFrontend

/// Files that are not valid models at all: each must fail with `.malformedModel` (or at worst
/// another `MicrogenError`), never trap and never hang.
final class BadInputTests: XCTestCase {
    func referenceBytes(_ name: String) throws -> [UInt8] {
        try TestPaths.bytes(TestPaths.model(name))
    }

    func assertEveryTruncationThrows(_ bytes: [UInt8], lengths: [Int], _ what: String,
                                     file: StaticString = #filePath, line: UInt = #line) {
        for length in lengths {
            do {
                _ = try TFLiteImporter.importModel(bytes: Array(bytes.prefix(length)), name: "cut")
                XCTFail("\(what) truncated to \(length) of \(bytes.count) bytes imported without error", file: file, line: line)
            } catch let error as MicrogenError {
                XCTAssertEqual(error.kind, .malformedModel, "\(what) length \(length): \(error)", file: file, line: line)
            } catch {
                XCTFail("\(what) length \(length): \(error)", file: file, line: line)
            }
        }
    }

    /// Cutting a real model anywhere must be noticed: every length up to 1 KiB, a spread of
    /// lengths across the file, then the last bytes one by one.
    func testTruncatedModelsAlwaysThrow() throws {
        let bytes = try referenceBytes("kws_ref_model")
        var lengths = Set(0..<min(1024, bytes.count))
        lengths.formUnion(stride(from: 1024, to: bytes.count, by: 61))
        lengths.formUnion(max(0, bytes.count - 256)..<bytes.count)
        assertEveryTruncationThrows(bytes, lengths: lengths.sorted(), "kws_ref_model")
    }

    func testTruncatedCopiesOfEveryReferenceModelThrow() throws {
        for name in ReferenceModelTests.int8Models + ReferenceModelTests.floatModels {
            let bytes = try referenceBytes(name)
            let spread = stride(from: 0, to: bytes.count, by: max(1, bytes.count / 150))
            assertEveryTruncationThrows(bytes, lengths: Array(spread) + [bytes.count - 1], name)
        }
    }

    /// The test writer lays buffers out last, unlike the TFLite converter: cut it everywhere too,
    /// with and without buffer data kept after the flatbuffer.
    func testTruncatedSyntheticModelsThrowAtEveryLength() {
        let plain = TestModel.conv().bytes()
        assertEveryTruncationThrows(plain, lengths: Array(0..<plain.count), "conv model")

        var model = TestModel.conv()
        model.buffers[2] = .init(data: nil, offset: 0xFFFF_FFFF, size: 54)
        let size = model.bytes().count
        model.buffers[2].offset = UInt64(size)
        model.trailer = [UInt8](repeating: 7, count: 54)
        let external = model.bytes()
        XCTAssertNoThrow(try TFLiteImporter.importModel(bytes: external, name: "external"))
        assertEveryTruncationThrows(external, lengths: Array(0..<external.count), "external-data model")

        // Unused buffers (metadata) are checked too.
        model = TestModel.conv()
        model.buffers.append(.init(data: nil, offset: 0xFFFF_FFFF, size: 16))
        model.buffers[5].offset = UInt64(model.bytes().count)
        model.trailer = [UInt8](repeating: 9, count: 16)
        let metadata = model.bytes()
        XCTAssertNoThrow(try TFLiteImporter.importModel(bytes: metadata, name: "metadata"))
        assertEveryTruncationThrows(metadata, lengths: Array(metadata.count - 16..<metadata.count), "unused buffer")
    }

    func testTruncationMessageSaysSo() throws {
        let bytes = try referenceBytes("kws_ref_model")
        assertImportFails(Array(bytes.prefix(bytes.count / 2)), kind: .malformedModel, "truncated or corrupt")
        assertImportFails(Array(bytes.prefix(5)), kind: .malformedModel, "only 5 bytes", "too short")
        assertImportFails([], kind: .malformedModel, "only 0 bytes")
    }

    func testRandomBytesAreRefused() {
        var rng = SplitMix64(seed: 42)
        for trial in 0..<300 {
            let size = Int.random(in: 0..<4096, using: &rng)
            var bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Half the trials carry the right identifier, to reach the structure checks.
            if trial % 2 == 0, bytes.count >= 8 { bytes.replaceSubrange(4..<8, with: Array("TFL3".utf8)) }
            XCTAssertThrowsError(try TFLiteImporter.importModel(bytes: bytes, name: "random")) { error in
                XCTAssertNotNil(error as? MicrogenError, "trial \(trial): \(error)")
            }
        }
    }

    /// Corrupting bytes of a real model may still give a valid model (a changed weight), but it
    /// must never trap or hang.
    func testCorruptedModelsNeverTrap() throws {
        let original = try referenceBytes("kws_ref_model")
        var rng = SplitMix64(seed: 7)
        var failures = 0
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                // Mostly hit the structure at the front and the tables, not only weight bytes.
                let limit = Bool.random(using: &rng) ? min(4096, bytes.count) : bytes.count
                bytes[Int.random(in: 0..<limit, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do { _ = try TFLiteImporter.importModel(bytes: bytes, name: "corrupt") } catch is MicrogenError { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 0)
    }

    func testTextFileIsNotAFlatbuffer() {
        let text = Array("# A README, not a model\nmodel: kws_ref_model.tflite\n".utf8)
        assertImportFails(text, kind: .malformedModel, "not a TFLite flatbuffer", "'READ'", "'TFL3'")
    }

    func testWrongIdentifierIsRefused() throws {
        var bytes = try referenceBytes("kws_ref_model")
        bytes.replaceSubrange(4..<8, with: Array("TFL2".utf8))
        assertImportFails(bytes, kind: .malformedModel, "not a TFLite flatbuffer", "'TFL2'")
        bytes.replaceSubrange(4..<8, with: [0, 1, 0xff, 0x10])
        assertImportFails(bytes, kind: .malformedModel, "not a TFLite flatbuffer", "0x00 0x01 0xff 0x10")
        assertImportFails(TestModel.conv().bytes().enumerated().map { $0.offset == 7 ? 0x34 : $0.element },
                          kind: .malformedModel, "'TFL4'")
    }

    func testLoadNamesTheModelAfterTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("microgen-frontend-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("notes.tflite")
        try Data("plain text".utf8).write(to: url)
        XCTAssertThrowsError(try TFLiteImporter.load(path: url.path)) { error in
            XCTAssertEqual((error as? MicrogenError)?.message.hasPrefix("notes: not a TFLite flatbuffer"), true, "\(error)")
        }
        XCTAssertThrowsError(try TFLiteImporter.load(path: directory.path)) { error in
            XCTAssertEqual((error as? MicrogenError)?.kind, .io, "\(error)")
        }
    }

    // MARK: flatbuffer structure

    func testOffsetsPointingOutsideTheFile() {
        var table = TestModel.conv().table()
        table[2] = .rawOffset(0x7FFF_FFF0)
        assertImportFails(FlatBufferTestWriter.serialize(table), kind: .malformedModel, "model, subgraphs", "outside the file")

        var root = [UInt8](repeating: 0, count: 16)
        root[0] = 0xF0; root[1] = 0xFF; root[2] = 0xFF; root[3] = 0xFF
        root.replaceSubrange(4..<8, with: Array("TFL3".utf8))
        assertImportFails(root, kind: .malformedModel, "model: table", "outside the file")
    }

    func testBadVtables() {
        // Root table at 8 whose vtable offset points before the file start.
        var bytes: [UInt8] = [8, 0, 0, 0] + Array("TFL3".utf8) + [0x10, 0, 0, 0] + [0, 0, 0, 0]
        assertImportFails(bytes, kind: .malformedModel, "model: vtable")
        // A vtable claiming size 3 (odd, below the 4-byte header).
        bytes = [12, 0, 0, 0] + Array("TFL3".utf8) + [3, 0, 8, 0] + [4, 0, 0, 0] + [0, 0, 0, 0]
        assertImportFails(bytes, kind: .malformedModel, "vtable at byte 8 has invalid size 3")
        // A field offset beyond the table's inline size.
        bytes = [16, 0, 0, 0] + Array("TFL3".utf8) + [6, 0, 8, 0] + [200, 0, 0, 0] + [8, 0, 0, 0] + [3, 0, 0, 0]
        assertImportFails(bytes, kind: .malformedModel, "field 'version'", "outside its table")
    }

    /// Thousands of tensors all pointing at one large vector would make a naive reader decode
    /// gigabytes; the reader's budget stops it quickly.
    func testSharedVectorsCannotMakeTheReaderLoop() {
        let tensorCount = 20_000
        let scaleCount = 20_000
        var b: [UInt8] = []
        func u16(_ v: Int) { b += [UInt8(v & 0xff), UInt8(v >> 8)] }
        func u32(_ v: Int) { b += (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
        func patch(_ at: Int, _ v: Int) { for k in 0..<4 { b[at + k] = UInt8((v >> (8 * k)) & 0xff) } }

        u32(0); b += Array("TFL3".utf8)
        // Model vtable (version, -, subgraphs) and table.
        let modelVtable = b.count; u16(10); u16(12); u16(4); u16(0); u16(8); u16(0)
        let model = b.count; patch(0, model); u32(model - modelVtable); u32(3); let subgraphsField = b.count; u32(0)
        // Subgraphs vector with one subgraph.
        let subgraphs = b.count; patch(subgraphsField, subgraphs - subgraphsField); u32(1); let subgraphSlot = b.count; u32(0)
        let subgraphVtable = b.count; u16(6); u16(8); u16(4); u16(0)
        let subgraph = b.count; patch(subgraphSlot, subgraph - subgraphSlot); u32(subgraph - subgraphVtable); let tensorsField = b.count; u32(0)
        // The tensors vector: every element points at the same tensor table, written after it
        // (offsets only point forward).
        let tensors = b.count; patch(tensorsField, tensors - tensorsField); u32(tensorCount)
        b += [UInt8](repeating: 0, count: 4 * tensorCount)
        // The tensor table (quantization only) and its large scale vector.
        let tensorVtable = b.count; u16(14); u16(8); u16(0); u16(0); u16(0); u16(0); u16(4); u16(0)
        let tensor = b.count; u32(tensor - tensorVtable); let quantField = b.count; u32(0)
        for i in 0..<tensorCount { let slot = tensors + 4 + 4 * i; patch(slot, tensor - slot) }
        let quantVtable = b.count; u16(10); u16(8); u16(0); u16(0); u16(4); u16(0)
        let quant = b.count; patch(quantField, quant - quantField); u32(quant - quantVtable); let scaleField = b.count; u32(0)
        let scales = b.count; patch(scaleField, scales - scaleField); u32(scaleCount); b += [UInt8](repeating: 0x3f, count: 4 * scaleCount)

        let start = Date()
        assertImportFails(b, kind: .malformedModel, "far more data than it holds")
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }
}
