import Foundation
import MicrogenIR
import MicrogenProject

/// An output compared with its reference: exact for integers, within tolerance for floats.
public struct OutputComparison: Sendable {
    /// Float tolerance: an element passes within this relative error, or this absolute error.
    public static let relativeTolerance = 1e-4
    public static let absoluteTolerance = 1e-5

    public var maxAbsoluteDifference: Double
    public var mismatches: Int
    public var count: Int
    public var firstMismatch: Int?

    public var passed: Bool { mismatches == 0 }

    public init(actual: NpyArray, expected: NpyArray) throws {
        guard actual.elementCount == expected.elementCount else {
            throw MicrogenError(.mismatch, "output has \(actual.elementCount) elements (shape \(actual.shape.shapeString)) but the reference has \(expected.elementCount) (shape \(expected.shape.shapeString))")
        }
        let a = actual.doubles(), e = expected.doubles()
        let exact = actual.dataType != .float32 && actual.dataType != .float64
        var maxDiff = 0.0, mismatches = 0
        var first: Int?
        for i in 0..<a.count {
            let diff = abs(a[i] - e[i])
            maxDiff = max(maxDiff, diff.isNaN ? .infinity : diff)
            let ok = exact ? diff == 0 : (diff <= Self.absoluteTolerance || diff <= Self.relativeTolerance * abs(e[i]))
            if !ok {
                mismatches += 1
                if first == nil { first = i }
            }
        }
        self.maxAbsoluteDifference = maxDiff
        self.mismatches = mismatches
        self.count = a.count
        self.firstMismatch = first
    }

    public var summary: String {
        let status = passed ? "match" : "MISMATCH"
        var text = "\(status): max abs diff \(maxAbsoluteDifference), \(mismatches) of \(count) elements differ"
        if let first = firstMismatch { text += " (first at flat index \(first))" }
        return text
    }
}
