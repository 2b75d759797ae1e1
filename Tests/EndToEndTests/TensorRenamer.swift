import Foundation

/// Gives tensors of a .tflite file new names, any bytes at all, as an attacker's model would
/// have: each new name is appended as a FlatBuffers string at the end of the file and the
/// tensor's `name` field is pointed at it (offsets only need to point forward, so nothing else
/// moves). Only subgraph 0 is touched.
enum TensorRenamer {
    /// `names(index)` is the new name of tensor `index`, or nil to keep it.
    static func rename(_ model: [UInt8], names: (Int) -> [UInt8]?) -> [UInt8] {
        var bytes = model
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        /// Where a table's field `id` lies (the table at `table`), or nil when it is absent.
        func field(_ table: Int, _ id: Int) -> Int? {
            let vtable = table - Int(Int32(truncatingIfNeeded: u32(table)))
            guard 4 + 2 * id < u16(vtable) else { return nil }
            let offset = u16(vtable + 4 + 2 * id)
            return offset == 0 ? nil : table + offset
        }
        func follow(_ at: Int) -> Int { at + u32(at) }

        let root = u32(0)
        let subgraphs = follow(field(root, 2)!)           // Model.subgraphs
        let subgraph = follow(subgraphs + 4)              // subgraphs[0]
        let tensors = follow(field(subgraph, 0)!)         // SubGraph.tensors
        for index in 0..<u32(tensors) {
            let tensor = follow(tensors + 4 + 4 * index)
            guard let name = names(index), let nameField = field(tensor, 3) else { continue } // Tensor.name
            while bytes.count % 4 != 0 { bytes.append(0) }
            let position = bytes.count
            bytes += withUnsafeBytes(of: UInt32(name.count).littleEndian, Array.init) + name + [0]
            let relative = UInt32(position - nameField)
            for b in 0..<4 { bytes[nameField + b] = UInt8(truncatingIfNeeded: relative >> (8 * b)) }
        }
        return bytes
    }
}
