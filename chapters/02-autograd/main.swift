// Chapter 02: automatic differentiation. Run: swift run -c release ch02-autograd [--quick]
// The chapter is in Autograd.swift and TwoMoons.swift; main.swift only parses the command line.
import Autograd

KernelChoice.applyAtLaunch()  // may re-execute once with faster OpenBLAS kernels (Autograd/KernelChoice.swift)
Chapter02.main()
