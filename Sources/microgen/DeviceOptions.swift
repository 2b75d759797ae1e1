import ArgumentParser
import Foundation
import MicrogenIR
import MicrogenHost

/// Where a model runs: shared by `run` and `profile`.
struct DeviceOptions: ParsableArguments {
    @Option(help: "The board: host (a native program), an emulated board (cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55: run under QEMU), or a real board with --port. See `microgen boards`.")
    var board: String = "host"

    @Option(help: "The serial device of a real board, e.g. /dev/ttyACM0 (the firmware must be flashed; see --flash).")
    var port: String?

    @Option(help: "The serial line's baud rate.")
    var baud: Int = 115_200

    @Flag(help: "With --port: flash the firmware (make flash) before talking to it.")
    var flash: Bool = false

    @Option(help: "Keep the generated firmware or program in this directory (default: a temporary one).")
    var buildDir: String?

    @Option(help: "The C name of the model (default: from the file name).")
    var name: String?

    @Flag(help: "Keep the inputs intact through a run (costs their RAM), so --runs N uploads them once instead of before every run: worth it over a slow serial line.")
    var keepInputs: Bool = false

    /// Refuses a board and options that do not go together before anything is compiled or built.
    func validate() throws {
        _ = try asUsageError { try connectionOptions(buildDirectory: "").checkedBoard() }
    }

    private func connectionOptions(buildDirectory: String) -> DeviceConnection.Options {
        .init(board: board, port: port, baudRate: baud, flash: flash, buildDirectory: buildDirectory)
    }

    /// Opens the connection, cleaning the temporary build directory when `body` is done.
    func withConnection<T>(model path: String, progress: ProgressLine, _ body: (DeviceConnection) throws -> T) throws -> T {
        progress.step("compiling \(path)")
        let compiled = try ModelBuilder.compile(path: path, name: name, keepInputs: keepInputs)
        let fm = FileManager.default
        let directory = buildDir ?? fm.temporaryDirectory.appendingPathComponent("microgen-\(board)-\(UUID().uuidString)").path
        defer { if buildDir == nil { try? fm.removeItem(atPath: directory) } }
        let connection = try DeviceConnection(model: compiled, options: connectionOptions(buildDirectory: directory), progress: progress)
        defer { connection.close() }
        return try body(connection)
    }
}
