import ArgumentParser
import MicrogenProject

struct BoardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boards",
        abstract: "List the boards microgen can build for.",
        discussion: """
        One JSON file in boards/ describes each board (core, compiler flags, memory regions, UART,
        counter, QEMU machine, flash tool): adding a board means adding a file (boards/README.md).
        Emulated boards run under QEMU; real boards are flashed with their usual tool.

        Example:
          microgen boards
        """
    )

    func run() throws {
        try reportingErrors {
            print(BoardCatalog.render(try BoardCatalog.all()), terminator: "")
        }
    }
}
