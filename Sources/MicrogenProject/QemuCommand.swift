import Foundation
import MicrogenIR

/// The one QEMU command line microgen uses, shared by the Makefile's `qemu` target and the
/// driver's QEMU transport (see docs/qemu.md for why each option is there).
public enum QemuCommand {
    public static let program = "qemu-system-arm"

    /// True when `program` is an executable on the PATH.
    public static var isInstalled: Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }
    }

    /// `-icount shift=0`: one instruction per virtual nanosecond, so counts are deterministic.
    /// `-serial stdio` with `-display none -monitor none` (not `-nographic`): the UART alone is
    /// on stdin/stdout, binary-clean, and QEMU holds input until the guest reads it.
    /// `-no-reboot`: a reset the firmware requests (SYSRESETREQ, from mg_exit in mg_startup.c)
    /// ends QEMU instead of restarting the firmware. QEMU then exits with 0; the firmware's status
    /// travels on the UART as its end-of-run record (`ExitRecord`).
    /// No semihosting: with it, firmware (or code injected into it) could run host commands and
    /// open host files (SYS_SYSTEM, SYS_OPEN). Without it a semihosting call (`bkpt 0xAB`) is a
    /// HardFault, reported like any other.
    public static func arguments(machine: String, kernel: String, extra: [String] = []) -> [String] {
        ["-M", machine, "-icount", "shift=0", "-display", "none", "-monitor", "none", "-serial", "stdio",
         "-no-reboot", "-kernel", kernel] + extra
    }

    public static func arguments(board: Board, kernel: String) throws -> [String] {
        guard let qemu = board.qemu else {
            throw MicrogenError(.invalidArgument, "board \(board.name) is real hardware: QEMU does not emulate it (emulated boards: cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55)")
        }
        return arguments(machine: qemu.machine, kernel: kernel, extra: qemu.extraArguments)
    }
}
