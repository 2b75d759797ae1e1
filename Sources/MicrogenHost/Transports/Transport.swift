import Foundation

/// A point on the monotonic clock by which a read must return. Wall-clock changes cannot move it.
public struct Deadline: Sendable, Comparable, CustomStringConvertible {
    public let uptimeNanoseconds: UInt64

    public init(uptimeNanoseconds: UInt64) {
        self.uptimeNanoseconds = uptimeNanoseconds
    }

    public static var now: Deadline { Deadline(uptimeNanoseconds: DispatchTime.now().uptimeNanoseconds) }

    /// `seconds` from now (negative or zero: already passed).
    public static func after(seconds: Double) -> Deadline {
        let base = DispatchTime.now().uptimeNanoseconds
        guard seconds > 0 else { return Deadline(uptimeNanoseconds: base) }
        let delta = seconds * 1e9 >= Double(UInt64.max / 2) ? UInt64.max / 2 : UInt64(seconds * 1e9)
        return Deadline(uptimeNanoseconds: base &+ delta)
    }

    /// Seconds left, never negative.
    public var remainingSeconds: Double {
        let now = DispatchTime.now().uptimeNanoseconds
        return uptimeNanoseconds > now ? Double(uptimeNanoseconds - now) / 1e9 : 0
    }

    public var hasPassed: Bool { DispatchTime.now().uptimeNanoseconds >= uptimeNanoseconds }

    /// The time left as a poll(2) timeout: rounded up so a poll never returns just before the
    /// deadline, and capped so it fits an Int32.
    public var pollTimeoutMilliseconds: Int32 {
        let now = DispatchTime.now().uptimeNanoseconds
        guard uptimeNanoseconds > now else { return 0 }
        let milliseconds = (uptimeNanoseconds - now + 999_999) / 1_000_000
        return Int32(min(milliseconds, UInt64(Int32.max)))
    }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.uptimeNanoseconds < b.uptimeNanoseconds }

    public var description: String { String(format: "%.3f s from now", remainingSeconds) }
}

/// A byte stream to a device: a UART, a USB CDC port, QEMU's emulated UART or a child process's
/// stdin/stdout. The RPC client writes whole frames and reads whatever bytes have arrived; framing,
/// checksums and retries are its job, not the transport's.
public protocol Transport: AnyObject {
    /// Names the line in error messages, e.g. "/dev/ttyACM0 at 115200 baud".
    var name: String { get }

    /// Sends every byte (blocking until the OS accepted them all). Throws `MicrogenError` when the
    /// line is gone (the device program exited, the port was unplugged).
    func write(_ bytes: [UInt8]) throws

    /// Returns between 1 and `maxCount` bytes as soon as any have arrived, or an empty array once
    /// `deadline` has passed with nothing to read. Never returns empty before the deadline. Throws
    /// `MicrogenError` when the line is gone for good.
    func read(maxCount: Int, deadline: Deadline) throws -> [UInt8]

    /// Releases the line (and stops a child process). Safe to call more than once.
    func close()
}

extension Transport {
    public var name: String { String(describing: type(of: self)) }
}
