// Chapter 07: data2vec on text. Run: swift run -c release ch07-text [--quick]
// The chapter starts in Chapter07.swift; main.swift only starts it.
import Autograd

KernelChoice.applyAtLaunch()  // may re-execute once with faster OpenBLAS kernels (Autograd/KernelChoice.swift)
Chapter07.main()
