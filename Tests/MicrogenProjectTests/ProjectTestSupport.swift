import Foundation
import XCTest
import MicrogenIR
import MicrogenCodegen
import MicrogenHost
@testable import MicrogenProject

/// Shared helpers for the board, project and QEMU tests.
enum ProjectTestSupport {
    /// The MLPerf Tiny models in the repository (models/mlperf/README.md), found from this file's
    /// location so tests run from any directory.
    static let modelsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path + "/models/mlperf"

    static func modelPath(_ name: String) -> String { modelsDirectory + "/" + name + ".tflite" }
    /// The folder of a model's reference vectors (inputs and TFLite Micro outputs).
    static func vectors(_ name: String) -> String { modelsDirectory + "/vectors/" + name }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var compiled: [String: CompiledModel] = [:]

    /// Compiles a reference model once per test run.
    static func compile(_ name: String) throws -> CompiledModel {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let model = compiled[name] { return model }
        let model = try ModelBuilder.compile(path: modelPath(name))
        compiled[name] = model
        return model
    }

    /// Fails (never skips) the test when a tool scripts/setup installs is missing.
    static func requireTools(_ tools: [String]) throws {
        for tool in tools {
            let result = try runProcess("sh", ["-c", "command -v \(tool)"])
            if result.status != 0 { throw MissingTool(name: tool) }
        }
    }

    struct MissingTool: Error, CustomStringConvertible {
        let name: String
        var description: String { "\(name) is not installed (./scripts/setup installs it)" }
    }

    static func scratchDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("microgen-\(label)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

extension ProjectTestSupport {
    /// Emits `model` for `board` into a fresh directory and builds it warning-free.
    static func buildProject(model: CompiledModel, board: Board, label: String,
                             options: ProjectOptions = ProjectOptions()) throws -> FirmwareBuild {
        let dir = try scratchDirectory(label)
        let project = try ProjectEmitter.emit(model: model, board: board, to: dir, options: options)
        return try ProjectBuilder.build(project, extraCFlags: ["-Werror"])
    }
}

extension ProjectTestSupport {
    /// A board's project with `main.c` replaced by `mainSource` (which may use mg_port.h and
    /// mg_cortexm.h), built. The model is still there but unused; the linker drops it.
    static func buildCustomFirmware(board: Board, mainSource: String, label: String) throws -> FirmwareBuild {
        let model = try compile("kws_ref_model")
        let dir = try scratchDirectory(label)
        let project = try ProjectEmitter.emit(model: model, board: board, to: dir)
        try mainSource.write(toFile: dir + "/main.c", atomically: true, encoding: .utf8)
        return try ProjectBuilder.build(project, extraCFlags: ["-Werror"])
    }

    /// Runs a firmware that ends on its own, with microgen's QEMU command line, and returns its UART
    /// output and the status of its end-of-run record (nil without one, or when QEMU itself failed
    /// or was stopped after 30 s).
    static func runToExit(board: Board, kernel: String) throws -> (output: String, status: Int32?) {
        let result = try runProcess("timeout", ["30", QemuCommand.program] + QemuCommand.arguments(board: board, kernel: kernel))
        let record = ExitRecord.find(in: Array(result.standardOutput.utf8))
        return (result.standardOutput + result.standardError, result.status == 0 ? record?.status : nil)
    }

    /// Starts `kernel` in QEMU through the driver's transport and reads until the transport gives
    /// up; returns its error (nil when it gave none within `seconds`).
    static func transportError(board: Board, kernel: String, seconds: Double = 10) throws -> MicrogenError? {
        let transport = try QemuTransport(board: board, kernel: kernel)
        defer { transport.close() }
        let deadline = Deadline.after(seconds: seconds)
        do {
            while !deadline.hasPassed { _ = try transport.read(maxCount: 256, deadline: deadline) }
        } catch let error as MicrogenError {
            return error
        }
        return nil
    }
}
