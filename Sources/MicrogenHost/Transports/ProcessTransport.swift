import Foundation
import MicrogenIR
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process whose stdin/stdout is the line: the host board's firmware, or an emulator
/// with its UART on stdio. Its stderr goes to a file so that, if it dies mid-session, the error
/// can quote how it ended.
public final class ProcessTransport: Transport {
    public let name: String
    public let executable: String
    public let arguments: [String]
    public private(set) var processID: pid_t

    private var toChild: Int32
    private var fromChild: Int32
    private let standardErrorPath: String
    /// Set once the child is reaped: its wait status.
    private var waitStatus: Int32?
    private var closed = false

    /// Starts `executable` (a path, or a name looked up on PATH) with `arguments`.
    /// `environment` entries are added to (or replace those of) this process's environment.
    public init(executable: String, arguments: [String] = [], environment: [String: String] = [:], name: String? = nil) throws {
        self.executable = executable
        self.arguments = arguments
        self.name = name ?? "the program \(executable)"
        // A write to a child that just died must fail with EPIPE, not kill the driver.
        signal(SIGPIPE, SIG_IGN)

        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1]
        guard ProcessTransport.makePipe(&input), ProcessTransport.makePipe(&output) else {
            let reason = PosixIO.errorText(errno)
            for fd in input + output where fd >= 0 { PosixIO.closeDescriptor(fd) }
            throw MicrogenError(.io, "cannot create pipes for \(executable): \(reason)")
        }
        standardErrorPath = NSTemporaryDirectory() + "/microgen-stderr-\(UUID().uuidString)"

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t?
        #else
        var actions = posix_spawn_file_actions_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, standardErrorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, nil, argv, envp)
            : posix_spawnp(&pid, executable, &actions, nil, argv, envp)
        PosixIO.closeDescriptor(input[0])
        PosixIO.closeDescriptor(output[1])
        guard spawned == 0 else {
            PosixIO.closeDescriptor(input[1])
            PosixIO.closeDescriptor(output[0])
            unlink(standardErrorPath)
            throw MicrogenError(.io, "cannot start \(executable): \(PosixIO.errorText(spawned))")
        }
        processID = pid
        toChild = input[1]
        fromChild = output[0]
    }

    deinit {
        close()
    }

    public func write(_ bytes: [UInt8]) throws {
        guard !closed else { throw MicrogenError(.io, "\(name) is closed") }
        if let failure = PosixIO.writeAll(toChild, bytes, timeout: 10) {
            throw MicrogenError(.io, "cannot write to \(name) (\(failure))\(ended())")
        }
    }

    public func read(maxCount: Int, deadline: Deadline) throws -> [UInt8] {
        guard !closed else { throw MicrogenError(.io, "\(name) is closed") }
        switch PosixIO.read(fromChild, maxCount: maxCount, deadline: deadline) {
        case .bytes(let bytes): return bytes
        case .timedOut: return []
        case .closed(let reason):
            throw MicrogenError(.io, "\(name) closed its output (\(reason))\(ended())")
        }
    }

    /// Whether the child is still alive (reaps it if not).
    public var isRunning: Bool {
        reap(waiting: 0)
        return waitStatus == nil
    }

    /// How the child ended, once it has: "exited with status 3", "was killed by signal 11".
    public var exitDescription: String? {
        reap(waiting: 0)
        return waitStatus.map(ProcessTransport.describe)
    }

    /// The last `maxBytes` of what the child wrote to stderr.
    public func standardErrorTail(maxBytes: Int = 2000) -> String {
        guard let data = FileManager.default.contents(atPath: standardErrorPath) else { return "" }
        return String(decoding: data.suffix(maxBytes), as: UTF8.self)
    }

    /// Closes the child's stdin (a host firmware then returns from its server loop), gives it a
    /// moment to exit, then terminates it: SIGTERM, and SIGKILL if that is ignored.
    public func close() {
        guard !closed else { return }
        closed = true
        PosixIO.closeDescriptor(toChild)
        reap(waiting: 0.2)
        if waitStatus == nil {
            kill(processID, SIGTERM)
            reap(waiting: 1.0)
        }
        if waitStatus == nil {
            kill(processID, SIGKILL)
            reap(waiting: 5.0)
        }
        PosixIO.closeDescriptor(fromChild)
        unlink(standardErrorPath)
    }

    /// " (the program exited with status 1; its stderr ends with: …)", or "" while it runs.
    private func ended() -> String {
        reap(waiting: 0.5)
        guard let status = waitStatus else { return "" }
        var text = "; the program \(ProcessTransport.describe(status))"
        let tail = standardErrorTail().trimmingCharacters(in: .whitespacesAndNewlines)
        text += tail.isEmpty ? " and wrote nothing to stderr" : "; its stderr ends with:\n\(tail)"
        return text
    }

    private func reap(waiting seconds: Double) {
        guard waitStatus == nil else { return }
        let deadline = Deadline.after(seconds: seconds)
        repeat {
            var status: Int32 = 0
            let result = waitpid(processID, &status, WNOHANG)
            if result == processID {
                waitStatus = status
                return
            }
            if result < 0 && errno != EINTR {
                // Not our child any more (someone else reaped it): treat as gone.
                waitStatus = -1
                return
            }
            if deadline.hasPassed { return }
            usleep(5000)
        } while true
    }

    static func describe(_ status: Int32) -> String {
        if status == -1 { return "has ended" }
        let low = status & 0x7F
        if low == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        if low != 0x7F {
            let name = signalNames[low].map { " (\($0))" } ?? ""
            return "was killed by signal \(low)\(name)"
        }
        return "stopped"
    }

    private static let signalNames: [Int32: String] = [
        SIGABRT: "SIGABRT", SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE",
        SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGPIPE: "SIGPIPE",
    ]

    /// A pipe whose ends are not inherited by other children (close-on-exec).
    private static func makePipe(_ fds: inout [Int32]) -> Bool {
        var pair: [Int32] = [-1, -1]
        guard pipe(&pair) == 0 else { return false }
        for fd in pair { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        fds = pair
        return true
    }
}
