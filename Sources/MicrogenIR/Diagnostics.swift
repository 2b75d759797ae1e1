/// An error a user can act on: one clear message naming the tensor, operator or file at fault.
public struct MicrogenError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case malformedModel = "malformed model"
        case unsupported = "unsupported"
        case invalidArgument = "invalid argument"
        case io = "I/O error"
        case toolchain = "toolchain error"
        case mismatch = "mismatch"
        case doesNotFit = "does not fit"
    }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
