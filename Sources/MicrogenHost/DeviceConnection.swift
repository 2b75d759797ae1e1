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

        /// The board these options name (nil for the host), once they are known to go together.
        /// Called before anything is compiled or built, so that a wrong combination is refused at
        /// once rather than after minutes of make.
        public func checkedBoard() throws -> Board? {
            if flash && port == nil {
                throw MicrogenError(.invalidArgument, "--flash programs a real board that is then reached on --port: give --port too")
            }
            if board == "host" {
                guard port == nil else {
                    throw MicrogenError(.invalidArgument, "--port is for a real board; --board host runs a native program on this machine")
                }
                return nil
            }
            let resolved = try BoardCatalog.named(board)
            if port != nil {
                try SerialTransport.speed(baudRate)
                if flash && resolved.flash == nil {
                    throw MicrogenError(.invalidArgument, "board \(resolved.name) has no flash tool in its board file (make flash has nothing to run): drop --flash")
                }
            } else if resolved.qemu == nil {
                throw MicrogenError(.invalidArgument, "board \(resolved.name) is real hardware, not emulated by QEMU: give --port with its serial device")
            }
            return resolved
        }
    }

    public init(model: CompiledModel, options: Options, progress: ProgressLine = ProgressLine()) throws {
        self.model = model
        self.boardName = options.board
        let transport: any Transport
        if let board = try options.checkedBoard() {
            self.board = board
            if options.port == nil && !QemuCommand.isInstalled {
                throw MicrogenError(.toolchain, "\(QemuCommand.program) is not installed; QEMU is needed to run emulated boards (apt-get install qemu-system-arm)")
            }
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
        } else {
            board = nil
            firmwareSize = nil
            progress.step("compiling \(model.name) for the host")
            let firmware = try HostFirmware.build(model, in: options.buildDirectory)
            transport = try ProcessTransport(executable: firmware.executable, name: "the host program for \(model.name)")
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
    /// `reshapeInputs`: an input of the model's type and element count but another shape is
    /// read in the model's shape (otherwise a different shape is refused).
    public func infer(_ inputs: [NpyArray], runs: Int = 1, reshapeInputs: Bool = false) throws -> (outputs: [NpyArray], timings: RunTimings, status: DeviceStatus) {
        let graph = model.graph
        let inputs = try conformInputs(inputs, to: graph, modelName: model.name, reshape: reshapeInputs)
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

/// The inputs as the model takes them: one per model input, each of its dtype and shape. With
/// `reshape`, an array of the right dtype and element count in another shape is given the
/// model's shape; without it, a different shape is refused, since the same element count in
/// another shape usually means a transposed or wrongly exported array.
func conformInputs(_ arrays: [NpyArray], to graph: Graph, modelName: String, reshape: Bool) throws -> [NpyArray] {
    guard arrays.count == graph.inputs.count else {
        throw MicrogenError(.invalidArgument, "model \(modelName) has \(graph.inputs.count) input(s) but \(arrays.count) were given (one --input .npy per model input, in order)")
    }
    return try zip(arrays, graph.inputs).enumerated().map { index, pair in
        let (array, tensor) = (pair.0, graph.tensors[pair.1])
        let what = "input \(index) (\"\(tensor.name.prefix(48))\")"
        guard array.dataType == tensor.dataType else {
            throw MicrogenError(.invalidArgument, "\(what) is \(tensor.dataType) but the .npy holds \(array.dataType)")
        }
        if array.shape == tensor.shape { return array }
        guard reshape else {
            let hint = array.elementCount == tensor.elementCount ? " (the same element count: --reshape-inputs reads it in the model's shape)" : ""
            throw MicrogenError(.invalidArgument, "\(what) has shape \(Npy.shapeText(tensor.shape)) but the .npy has shape \(Npy.shapeText(array.shape))\(hint)")
        }
        guard array.elementCount == tensor.elementCount else {
            throw MicrogenError(.invalidArgument, "\(what) has \(tensor.elementCount) elements (shape \(Npy.shapeText(tensor.shape))) but the .npy has \(array.elementCount) (shape \(Npy.shapeText(array.shape))), so it cannot be reshaped")
        }
        return NpyArray(dataType: array.dataType, shape: tensor.shape, data: array.data)
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
