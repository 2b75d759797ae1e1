import Foundation
import MicrogenIR
import MicrogenCodegen
import MicrogenProject

/// A compiled model running on a board, ready for RPC: the host board (a child process), an
/// emulated board (QEMU), or a real board on a serial port. Builds the firmware first.
public final class DeviceConnection {
    public let model: CompiledModel
    /// nil for the host board.
    public let board: Board?
    public let boardName: String
    public let session: DeviceSession
    public let device: DeviceDescription
    /// Flash and RAM use from the ELF (firmware boards only).
    public let firmwareSize: FirmwareSize?

    public struct Options {
        public var board: String
        /// A serial device (real boards): the firmware must already be flashed, or `flash` set.
        public var port: String?
        public var baudRate: Int
        /// Run `make flash` before opening `port`.
        public var flash: Bool
        /// Where the firmware is built (kept, so it can be flashed or inspected).
        public var buildDirectory: String

        public init(board: String, port: String? = nil, baudRate: Int = 115_200, flash: Bool = false, buildDirectory: String) {
            self.board = board
            self.port = port
            self.baudRate = baudRate
            self.flash = flash
            self.buildDirectory = buildDirectory
        }
    }

    public init(model: CompiledModel, options: Options, progress: ProgressLine = ProgressLine()) throws {
        self.model = model
        self.boardName = options.board
        let transport: any Transport
        if options.board == "host" {
            board = nil
            firmwareSize = nil
            progress.step("compiling \(model.name) for the host")
            let firmware = try HostFirmware.build(model, in: options.buildDirectory)
            transport = try ProcessTransport(executable: firmware.executable, name: "the host program for \(model.name)")
        } else {
            let board = try BoardCatalog.named(options.board)
            self.board = board
            let project = try ProjectEmitter.emit(model: model, board: board, to: options.buildDirectory)
            progress.step("building the \(board.name) firmware with make")
            let build = try ProjectBuilder.build(project)
            firmwareSize = build.size
            if let port = options.port {
                if options.flash {
                    progress.step("flashing \(board.name) (make flash)")
                    let result = try runProcess("make", ["-C", project.directory, "flash"])
                    guard result.status == 0 else {
                        throw MicrogenError(.toolchain, "make flash failed for \(board.name):\n\(result.standardError.suffix(2000))")
                    }
                }
                transport = try SerialTransport(path: port, baudRate: options.baudRate)
            } else {
                progress.step("starting \(board.name) in QEMU")
                transport = try QemuTransport(board: board, kernel: build.elfPath)
            }
        }
        session = DeviceSession(transport: transport)
        do {
            device = try session.verify(model)
        } catch {
            session.close()
            throw error
        }
    }

    deinit { close() }

    public func close() { session.close() }

    /// Runs one inference (or `runs` back to back) on the inputs and returns the outputs with timings.
    public func infer(_ inputs: [NpyArray], runs: Int = 1) throws -> (outputs: [NpyArray], timings: RunTimings, status: DeviceStatus) {
        let graph = model.graph
        guard inputs.count == graph.inputs.count else {
            throw MicrogenError(.invalidArgument, "model \(model.name) has \(graph.inputs.count) input(s) but \(inputs.count) were given")
        }
        for (i, (array, tensorIndex)) in zip(inputs, graph.inputs).enumerated() {
            try checkInput(array, against: graph.tensors[tensorIndex], index: i)
        }
        let result = try session.infer(inputs: inputs.map(\.data), runs: runs, runTimeout: runTimeout(runs: runs))
        let outputs = zip(result.outputs, graph.outputs).map { bytes, tensorIndex in
            NpyArray(dataType: graph.tensors[tensorIndex].dataType, shape: graph.tensors[tensorIndex].shape, data: bytes)
        }
        return (outputs, result.timings, result.status)
    }

    /// A generous deadline for RUN: emulated boards run about 50 M instructions a second, and the
    /// slowest real boards a few MACs per microsecond.
    private func runTimeout(runs: Int) -> Double {
        let macs = Double(max(model.macs, 1))
        return 5 + Double(runs) * macs * 20 / 50_000_000
    }

    /// What the device's counter counts, and the factor from ticks to that unit.
    public var unit: (name: String, perTick: Double) {
        let info = device.info
        if info.runsUnderQemuIcount, info.instructionsPerTick > 0 { return ("instructions", Double(info.instructionsPerTick)) }
        if info.hasCycleCounter { return ("cycles", 1) }
        if info.counterHz == 1_000_000_000 { return ("ns", 1) }
        return ("ticks", 1)
    }
}

func checkInput(_ array: NpyArray, against tensor: Tensor, index: Int) throws {
    guard array.dataType == tensor.dataType else {
        throw MicrogenError(.invalidArgument, "input \(index) (\"\(tensor.name)\") is \(tensor.dataType) but the .npy holds \(array.dataType)")
    }
    guard array.elementCount == tensor.elementCount else {
        throw MicrogenError(.invalidArgument, "input \(index) (\"\(tensor.name)\") has shape \(tensor.shape.shapeString) but the .npy has shape \(array.shape.shapeString)")
    }
}

/// Progress lines for long steps: shown on a terminal (stderr), silent otherwise.
public struct ProgressLine: Sendable {
    public let enabled: Bool

    public init(enabled: Bool = isatty(STDERR_FILENO) != 0) {
        self.enabled = enabled
    }

    public func step(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("… \(UntrustedText.terminal(text))\n".utf8))
    }
}

extension DeviceSession {
    /// `verify` against what `model` was compiled to: its name, build id and input types and shapes.
    @discardableResult
    public func verify(_ model: CompiledModel) throws -> DeviceDescription {
        let graph = model.graph
        return try verify(expectedName: model.name, inputs: graph.inputs.map { (graph.tensors[$0].dataType, graph.tensors[$0].shape) },
                          expectedBuildID: model.buildID)
    }
}
