// Chapter 01: tensors. Run: swift run -c release ch01-tensors [--quick]
// main.swift only parses the command line; the chapter is in Tensors.swift (see README, "Speed":
// closures written at the top level of main.swift run main-actor checks on every call).
import Autograd

KernelChoice.applyAtLaunch()  // may re-execute once with faster OpenBLAS kernels (Autograd/KernelChoice.swift)
Chapter01.main()
