import Foundation
import MicrogenIR
import MicrogenCompiler

/// Writes `<name>.h` and `<name>.c`: the model's constants, one straight-line run function, and
/// the public API. Everything is emitted in graph order, so the output is byte-identical for the
/// same model and options.
struct CEmitter {
    let name: String
    let graph: Graph
    let aliases: AliasedGraph
    let tensorOffsets: [Int: Int]
    let arenaSize: Int
    /// No buffer of the plan overwrites a model input (see `BufferAssignment.preservesInputs`).
    let inputsPreserved: Bool
    let operators: [CompiledOperator]
    let lowerings: [any KernelLowering]

    var prefix: String { "mg_\(name)" }
    var macroPrefix: String { "MG_\(name.uppercased())" }

    init(name: String, aliases: AliasedGraph, tensorOffsets: [Int: Int], arenaSize: Int, inputsPreserved: Bool,
         operators: [CompiledOperator], lowerings: [any KernelLowering]) {
        self.inputsPreserved = inputsPreserved
        self.name = UntrustedText.cIdentifier(name)
        self.graph = aliases.graph
        self.aliases = aliases
        self.tensorOffsets = tensorOffsets
        self.arenaSize = arenaSize
        self.operators = operators
        self.lowerings = lowerings
    }

    func constantName(_ tensor: Int) -> String { "\(prefix)_t\(tensor)" }

    /// The typed C expression for a tensor's first element.
    func expression(_ tensor: Int) -> String {
        let t = graph.tensors[tensor]
        if t.isConstant { return constantName(tensor) }
        return "((\(t.dataType.cType) *)(arena + \(tensorOffsets[tensor] ?? 0)))"
    }

    func emit(kernelsDirectory: String) throws -> (files: [(name: String, contents: String)], weightsBytes: Int, buildID: UInt32,
                                                   variants: [[KernelVariant]]) {
        var variants: [[KernelVariant]] = []
        var operatorDeclarations: [String] = []
        var runBody = ""
        var headers: [String] = []
        var referenced: Set<Int> = []
        var weightsBytes = 0
        let aliasesOf = aliasTable()

        for (i, op) in graph.operators.enumerated() {
            let context = EmitContext(graph: graph, prefix: prefix, operatorIndex: i,
                                      scratchOffset: operators[i].scratchOffset, tensorExpression: expression)
            let lowered = try lowerings[i].lower(op, context: context)
            variants.append(lowered.variants)
            operatorDeclarations.append(contentsOf: context.declarations)
            referenced.formUnion(context.referencedConstants)
            weightsBytes += context.constantBytes
            for header in lowered.kernelHeaders where !headers.contains(header) { headers.append(header) }

            runBody += "\n    /* operator \(i): \(op.kind.rawValue) \(describe(op)) */\n"
            runBody += "    \(macroPrefix)_OP_BEGIN(\(i));\n"
            for line in lowered.statements.split(separator: "\n", omittingEmptySubsequences: true) {
                runBody += "    \(line)\n"
            }
            runBody += "    \(macroPrefix)_OP_END(\(i));\n"
            for output in op.outputs where output >= 0 {
                for tensor in [output] + (aliasesOf[output] ?? []) {
                    runBody += "    \(macroPrefix)_TRACE(\(i), \(tensor), arena + \(tensorOffsets[tensor] ?? 0), \(graph.tensors[tensor].byteCount));\n"
                }
            }
        }

        var constants = ""
        for tensor in referenced.sorted() {
            let t = graph.tensors[tensor]
            constants += "/* tensor \(tensor) \"\(UntrustedText.cComment(t.name))\": \(t.dataType) \(t.shape.shapeString) */\n"
            constants += CWriter.constArray(name: constantName(tensor), cType: t.dataType.cType, values: literals(of: t))
            weightsBytes += t.byteCount
        }

        let kernelFiles = try KernelHeaders.closure(of: ["mg_common.h"] + headers, in: kernelsDirectory)
        let sourceText = source(headers: headers, constants: constants, declarations: operatorDeclarations, runBody: runBody)
        let buildID = fnv1a(sourceText + kernelFiles.map(\.contents).joined())
        let files: [(name: String, contents: String)] = [("\(name).h", header(buildID: buildID)), ("\(name).c", sourceText)] + kernelFiles
        return (files, weightsBytes, buildID, variants)
    }

    /// Tensors that are other names (RESHAPE/SQUEEZE outputs) for each tensor's storage, so traces cover them.
    private func aliasTable() -> [Int: [Int]] {
        var table: [Int: [Int]] = [:]
        for alias in aliases.storageOf.keys.sorted() { table[aliases.root(alias), default: []].append(alias) }
        return table
    }

    private func describe(_ op: Operator) -> String {
        let ins = op.inputs.filter { $0 >= 0 && !graph.tensors[$0].isConstant }.map { graph.tensors[$0].shape.shapeString }
        let outs = op.outputs.map { graph.tensors[$0].shape.shapeString }
        return "\(ins.joined(separator: ", ")) -> \(outs.joined(separator: ", "))"
    }

    private func literals(of tensor: Tensor) -> [String] {
        switch tensor.dataType {
        case .float32: return tensor.float32Values().map(CWriter.floatLiteral)
        case .int64: return tensor.int64Values().map { CWriter.integerLiteral($0, cType: "int64_t") }
        case .int32: return tensor.int32Values().map { CWriter.integerLiteral($0, cType: "int32_t") }
        default: return tensor.integerValues().map(String.init)
        }
    }

    // MARK: - model.h

    private func ioDescription(_ tensor: Int) -> String {
        let t = graph.tensors[tensor]
        var text = "\"\(UntrustedText.cComment(t.name))\": \(t.dataType) \(t.shape.shapeString)"
        if let q = t.quantization, t.dataType == .int8 { text += ", scale \(q.scale), zero point \(q.zeroPoint)" }
        return text
    }

    private func parameterList() -> String {
        var parameters: [String] = []
        for (i, t) in graph.inputs.enumerated() { parameters.append("const \(graph.tensors[t].dataType.cType) *input\(i)") }
        for (i, t) in graph.outputs.enumerated() { parameters.append("\(graph.tensors[t].dataType.cType) *output\(i)") }
        parameters.append("uint8_t *arena")
        return parameters.joined(separator: ", ")
    }

    /// FNV-1a (32-bit): a build id that changes whenever the generated code does.
    private func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return hash
    }

    /// The RPC protocol's dtype codes (docs/protocol.md).
    private func dtypeCode(_ type: DataType) -> Int {
        switch type {
        case .int8: return 1
        case .float32: return 2
        case .uint8: return 3
        case .int16: return 4
        case .int32: return 5
        default: return 0
        }
    }

    func header(buildID: UInt32) -> String {
        let guardName = "\(macroPrefix)_H"
        var text = """
        /* Generated by microgen. Do not edit: run `microgen build` again instead. */
        #ifndef \(guardName)
        #define \(guardName)

        #include <stdint.h>

        #ifdef __cplusplus
        extern "C" {
        #endif

        #define \(macroPrefix)_NAME "\(UntrustedText.cStringContents(name))"
        /* Changes whenever the generated code changes (FNV-1a of the sources). */
        #define \(macroPrefix)_BUILD_ID 0x\(String(buildID, radix: 16))u
        /* RAM for every activation and scratch buffer, inputs and outputs included.
         * The arena must be aligned to \(macroPrefix)_ARENA_ALIGNMENT bytes. */
        #define \(macroPrefix)_ARENA_SIZE \(arenaSize)
        #define \(macroPrefix)_ARENA_ALIGNMENT 16
        /* 1: a run leaves the inputs as they were written. 0: the plan reuses input memory once
         * the inputs are read, so write the inputs again before every run. */
        #define \(macroPrefix)_INPUTS_PRESERVED \(inputsPreserved ? 1 : 0)
        #define \(macroPrefix)_NUM_OPERATORS \(graph.operators.count)
        #define \(macroPrefix)_NUM_INPUTS \(graph.inputs.count)
        #define \(macroPrefix)_NUM_OUTPUTS \(graph.outputs.count)

        """
        for (label, list) in [("INPUT", graph.inputs), ("OUTPUT", graph.outputs)] {
            for (i, t) in list.enumerated() {
                text += "/* \(label.lowercased()) \(i) \(ioDescription(t)) */\n"
                text += "#define \(macroPrefix)_\(label)\(i)_SIZE \(graph.tensors[t].byteCount)\n"
                text += "#define \(macroPrefix)_\(label)\(i)_OFFSET \(tensorOffsets[t] ?? 0)\n"
                let tensor = graph.tensors[t]
                let dims = tensor.shape.isEmpty ? "1" : tensor.shape.map(String.init).joined(separator: ", ")
                text += "#define \(macroPrefix)_\(label)\(i)_DTYPE \(dtypeCode(tensor.dataType)) /* 1 int8, 2 float32 */\n"
                // A scalar has rank 0 (its DIMS initializer still needs one element).
                text += "#define \(macroPrefix)_\(label)\(i)_RANK \(tensor.shape.count)\n"
                text += "#define \(macroPrefix)_\(label)\(i)_DIMS { \(dims) }\n"
                text += "#define \(macroPrefix)_\(label)\(i)_SCALE \(CWriter.floatLiteral(tensor.quantization?.scale ?? 0))\n"
                text += "#define \(macroPrefix)_\(label)\(i)_ZERO_POINT \(tensor.quantization?.zeroPoint ?? 0)\n"
            }
        }
        text += """

        /* Runs one inference on inputs already written at their offsets in the arena; the
         * outputs are left at theirs. Returns 0 on success. */
        int \(prefix)_run(uint8_t *arena);

        /* Copies the inputs into the arena, runs, and copies the outputs out. Returns 0 on success. */
        int \(prefix)_invoke(\(parameterList()));

        #ifdef __cplusplus
        }
        #endif

        #endif

        """
        return text
    }

    // MARK: - model.c

    func source(headers: [String], constants: String, declarations: [String], runBody: String) -> String {
        var text = """
        /* Generated by microgen. Do not edit: run `microgen build` again instead. */
        #include "\(name).h"
        #include "mg_common.h"

        """
        for header in headers { text += "#include \"\(header)\"\n" }
        text += """

        /* Define MG_TRACE and provide mg_trace_op() to see every operator's output (used by tests). */
        #ifdef MG_TRACE
        void mg_trace_op(const char *model, int operator_index, int tensor_index, const void *data, size_t bytes);
        #define \(macroPrefix)_TRACE(op, tensor, data, bytes) mg_trace_op("\(UntrustedText.cStringContents(name))", (op), (tensor), (data), (bytes))
        #else
        #define \(macroPrefix)_TRACE(op, tensor, data, bytes) ((void)0)
        #endif

        /* Define MG_PROFILE and provide mg_profile_begin()/mg_profile_end() to time every operator
         * (the RPC runtime does, with the board's cycle counter). */
        #ifdef MG_PROFILE
        void mg_profile_begin(int operator_index);
        void mg_profile_end(int operator_index);
        #define \(macroPrefix)_OP_BEGIN(op) mg_profile_begin(op)
        #define \(macroPrefix)_OP_END(op) mg_profile_end(op)
        #else
        #define \(macroPrefix)_OP_BEGIN(op) ((void)0)
        #define \(macroPrefix)_OP_END(op) ((void)0)
        #endif

        """
        text += constants
        if !declarations.isEmpty { text += "\n" + declarations.joined(separator: "\n") }
        text += "\nint \(prefix)_run(uint8_t *arena)\n{\n    (void)arena;\n" + runBody + "    return 0;\n}\n\n"
        text += "int \(prefix)_invoke(\(parameterList()))\n{\n"
        for i in graph.inputs.indices {
            text += "    memcpy(arena + \(macroPrefix)_INPUT\(i)_OFFSET, input\(i), \(macroPrefix)_INPUT\(i)_SIZE);\n"
        }
        text += "    int status = \(prefix)_run(arena);\n"
        for i in graph.outputs.indices {
            text += "    memcpy(output\(i), arena + \(macroPrefix)_OUTPUT\(i)_OFFSET, \(macroPrefix)_OUTPUT\(i)_SIZE);\n"
        }
        text += "    return status;\n}\n"
        return text
    }
}

/// Finds the kernel headers a model needs, following `#include "..."` between them.
enum KernelHeaders {
    static func closure(of roots: [String], in directory: String) throws -> [(name: String, contents: String)] {
        var seen: [String: String] = [:]
        var queue = roots
        while let header = queue.first {
            queue.removeFirst()
            if seen[header] != nil { continue }
            let path = directory + "/" + header
            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw MicrogenError(.io, "kernel header \(header) not found in \(directory) (set MICROGEN_HOME to the microgen source tree)")
            }
            seen[header] = contents
            for line in contents.split(separator: "\n") where line.hasPrefix("#include \"") {
                let included = line.dropFirst("#include \"".count).prefix { $0 != "\"" }
                queue.append(String(included))
            }
        }
        return seen.keys.sorted().map { ($0, seen[$0]!) }
    }
}
