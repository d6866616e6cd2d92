// How every chapter starts: `main.swift` is one line, `launch(ChapterNN.self)`.
import ArgumentParser
import Autograd

/// Chooses OpenBLAS's kernels (which may re-execute the program once with faster ones; see
/// Sources/Autograd/Speed/KernelChoice.swift), then parses the command line and runs the chapter.
public func launch<Command: ParsableCommand>(_ command: Command.Type) {
    KernelChoice.applyAtLaunch()
    command.main()
}
