import Foundation

/// A Swift trap kills the test process, so before each mutant the fuzzer leaves its description
/// here; a handler for the fatal signals writes it to stderr (with write(2), which is safe in a
/// signal handler), then puts the previous handler back so the runtime's own report and
/// backtrace follow as usual.
enum TrapReporter {
    private static let capacity = 8192
    nonisolated(unsafe) private static let text = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
    nonisolated(unsafe) fileprivate static var length = 0
    nonisolated(unsafe) fileprivate static let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
    nonisolated(unsafe) private static var installed = false
    static let signals = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE]

    static func install() {
        guard !installed else { return }
        installed = true
        length = 0
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = trapHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, previous + Int(signal))
        }
    }

    /// What is being tried now; the handler prints it if the process dies before the next call.
    static func set(_ description: String) {
        let bytes = Array("\nmodel fuzz: the process died on \(description)\n".utf8.prefix(capacity))
        length = 0
        for (i, byte) in bytes.enumerated() { text[i] = CChar(bitPattern: byte) }
        length = bytes.count
    }

    fileprivate static var message: UnsafeMutablePointer<CChar> { text }
}

private let trapHandler: @convention(c) (Int32) -> Void = { signal in
    _ = write(2, TrapReporter.message, TrapReporter.length)
    // Returning re-runs the trapping instruction (or abort() raises again) into the previous handler.
    sigaction(signal, TrapReporter.previous + Int(signal), nil)
}
