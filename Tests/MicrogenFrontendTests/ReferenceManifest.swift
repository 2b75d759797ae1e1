import Foundation

/// The parts of `vectors/<model>/manifest.json` the frontend tests compare against.
struct ReferenceManifest {
    struct TensorInfo {
        var name: String
        var shape: [Int]
        var dtype: String
        /// 0 for float tensors (no quantization).
        var scale: Double
        var zeroPoint: Int
    }

    struct Intermediate {
        var opIndex: Int
        var op: String
        var tensorIndex: Int
        var tensorName: String
    }

    var inputs: [TensorInfo]
    var outputs: [TensorInfo]
    /// Case 0's per-operator outputs (int8 models only).
    var intermediates: [Intermediate]

    struct FormatError: Error, CustomStringConvertible { var description: String }

    init(contentsOf url: URL) throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let root = json as? [String: Any] else { throw FormatError(description: "\(url.path): not a JSON object") }
        inputs = try Self.tensors(root["inputs"], url)
        outputs = try Self.tensors(root["outputs"], url)
        let cases = root["cases"] as? [[String: Any]] ?? []
        let list = cases.first?["intermediates_tflite_ref"] as? [[String: Any]] ?? []
        intermediates = try list.map { entry in
            guard let op = entry["op_index"] as? Int, let kind = entry["op"] as? String,
                  let tensor = entry["tensor_index"] as? Int, let name = entry["tensor_name"] as? String else {
                throw FormatError(description: "\(url.path): bad intermediate entry \(entry)")
            }
            return Intermediate(opIndex: op, op: kind, tensorIndex: tensor, tensorName: name)
        }
    }

    private static func tensors(_ value: Any?, _ url: URL) throws -> [TensorInfo] {
        guard let list = value as? [[String: Any]] else { throw FormatError(description: "\(url.path): missing tensor list") }
        return try list.map { entry in
            guard let name = entry["name"] as? String, let shape = entry["shape"] as? [Int],
                  let dtype = entry["dtype"] as? String, let scale = (entry["scale"] as? NSNumber)?.doubleValue,
                  let zeroPoint = entry["zero_point"] as? Int else {
                throw FormatError(description: "\(url.path): bad tensor entry \(entry)")
            }
            return TensorInfo(name: name, shape: shape, dtype: dtype, scale: scale, zeroPoint: zeroPoint)
        }
    }
}
