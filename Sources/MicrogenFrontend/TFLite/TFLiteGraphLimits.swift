import MicrogenIR

/// What the importer refuses because a later stage could not hold it (`GraphLimits`), and model
/// inputs and outputs that are constants: an input is written into the arena at run time and an
/// output read from it, but a constant lives in flash and has no place in the arena.
extension TFLiteGraphBuilder {
    func checkCounts(operators: Int, inputs: [Int], outputs: [Int]) throws {
        if operators > GraphLimits.operators {
            throw unsupported("the model has \(operators) operators; microgen compiles at most \(GraphLimits.operators) (the RPC timing table counts them in 16 bits)")
        }
        if inputs.count > GraphLimits.inputs {
            throw unsupported("the model has \(inputs.count) inputs; microgen compiles at most \(GraphLimits.inputs) (the RPC protocol counts them in one byte)")
        }
        if outputs.count > GraphLimits.outputs {
            throw unsupported("the model has \(outputs.count) outputs; microgen compiles at most \(GraphLimits.outputs) (the RPC protocol counts them in one byte)")
        }
    }

    /// Every used tensor within the rank and byte limits; inputs and outputs are activations.
    func checkTensorLimits(_ tensors: [Tensor], used: Set<Int>, inputs: [Int], outputs: [Int]) throws {
        var tooDeep: [String] = [], tooLarge: [String] = []
        for index in used.sorted() {
            let tensor = tensors[index]
            if tensor.shape.count > GraphLimits.rank { tooDeep.append("\(label(tensor: index)) (rank \(tensor.shape.count))") }
            // checkedShape bounds the element count, so this product cannot overflow.
            if tensor.byteCount > GraphLimits.bytes { tooLarge.append("\(label(tensor: index)) (\(tensor.byteCount) bytes)") }
        }
        if !tooDeep.isEmpty {
            throw unsupported("\(countedList(tooDeep, "tensor")) more than \(GraphLimits.rank) dimensions, the most microgen supports")
        }
        if !tooLarge.isEmpty {
            throw unsupported("\(countedList(tooLarge, "tensor")) more than \(GraphLimits.bytes) bytes, the largest tensor microgen supports")
        }
        for (role, list) in [("input", inputs), ("output", outputs)] {
            for (position, index) in list.enumerated() where tensors[index].isConstant {
                throw unsupported("model \(role) \(position) is \(label(tensor: index)), a constant (it has data in the file); microgen needs model inputs and outputs to be activations computed or written at run time")
            }
        }
    }

    /// "2 tensors have: a, b" / "tensor 3 'x' has", listing at most `shown` items.
    private func countedList(_ items: [String], _ noun: String, shown: Int = 3) -> String {
        items.count == 1 ? "\(items[0]) has" : "\(items.count) \(noun)s have (\(Self.firstFew(items, shown: shown)))"
    }

    /// The first `shown` items and how many more: messages stay one bounded line however many
    /// tensors or operators a model has.
    static func firstFew(_ items: [String], shown: Int = 3) -> String {
        let listed = items.prefix(shown).joined(separator: ", ")
        return items.count > shown ? "\(listed) and \(items.count - shown) more" : listed
    }
}
