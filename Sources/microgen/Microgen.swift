import ArgumentParser
import Foundation
import MicrogenIR
import MicrogenProject

@main
struct Microgen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "microgen",
        abstract: "Compile trained neural networks (TFLite) into small, statically planned C for microcontrollers.",
        discussion: """
        microgen reads a .tflite model, plans every byte of RAM at compile time and writes plain C99
        (no heap, no interpreter) that gives the same int8 results as TensorFlow Lite Micro.

        Examples:
          microgen inspect kws.tflite
          microgen build kws.tflite --emit library --output out/kws
          microgen run kws.tflite --board host --input in.npy --output out.npy
          microgen build kws.tflite --board cortex-m7 --output out/kws-m7
          microgen profile kws.tflite --board cortex-m7
        """,
        version: "0.1.0",
        subcommands: [BuildCommand.self, RunCommand.self, ProfileCommand.self, InspectCommand.self, BoardsCommand.self, BenchCommand.self]
    )
}

/// Runs a command body, turning microgen's errors into one clear line on stderr and exit status 1.
/// Messages quote tensor names from the model: they reach the terminal only as `UntrustedText`.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as MicrogenError {
        FileHandle.standardError.write(Data("microgen: \(UntrustedText.terminalLines(error.description))\n".utf8))
        throw ExitCode.failure
    }
}

/// Runs a check from a `validate()`: an invalid argument becomes a usage error (exit status 64,
/// with the usage line), raised before the command compiles or builds anything.
func asUsageError<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as MicrogenError where error.kind == .invalidArgument {
        throw ValidationError(error.message)
    }
}

/// Prints a line to stderr (progress and notes), keeping stdout for results.
func note(_ text: String) {
    FileHandle.standardError.write(Data((UntrustedText.terminalLines(text) + "\n").utf8))
}
