import MicrogenIR
import MicrogenCodegen
import MicrogenProject

/// The stack a firmware reserves, from a measured figure instead of a guess: the firmware runs
/// one inference under QEMU with its stack painted (mg_startup.c), the STATUS reply says how deep
/// the paint was overwritten, and the reserve is that plus a margin. The code path of an
/// inference does not depend on the input's values (no recursion, no data-dependent calls), so
/// one run on zeros reaches the depth every run reaches.
public enum StackSizing {
    /// The guard at the bottom of the stack (an MPU region on ARMv7-M; on ARMv8-M the stack
    /// limit register needs none, but keeping it costs little and keeps one layout).
    public static let guardBytes = 256

    /// The reserve for a measured high-water mark: a quarter more, at least 256 bytes, for what
    /// one run did not reach (an interrupt at the deepest point, another path through the RPC
    /// server), rounded up to 256 bytes (the guard's MPU region is 256-aligned), plus the guard.
    public static func reserve(forHighWater highWater: Int) -> Int {
        let margin = max(highWater / 4, 256)
        return (highWater + margin + 255) / 256 * 256 + guardBytes
    }

    /// Runs `model`'s firmware (already built at `elfPath` for `board`) once under QEMU on zero
    /// inputs and returns the stack high-water mark in bytes.
    public static func measureHighWater(model: CompiledModel, board: Board, elfPath: String) throws -> Int {
        let transport = try QemuTransport(board: board, kernel: elfPath)
        let session = DeviceSession(transport: transport)
        defer { session.close() }
        try session.verify(model)
        let graph = model.graph
        let zeros = graph.inputs.map { [UInt8](repeating: 0, count: graph.tensors[$0].byteCount) }
        let result = try session.infer(inputs: zeros, runTimeout: 60)
        guard result.status.stackHighWater > 0 else {
            throw MicrogenError(.io, "\(board.name) in QEMU reports no stack high-water mark (is its stack painted?)")
        }
        return Int(result.status.stackHighWater)
    }
}
