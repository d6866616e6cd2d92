// bench-mlp: one training step of an MLP 784-256-256-10 at batch 256 (softmax cross-entropy, plain
// SGD), timed, with the time spent inside cblas_sgemm separated from the rest of the engine.
// Run: swift run -c release bench-mlp [--steps 200] [--threads 1 2]
// The rest (element kernels, graph bookkeeping, allocation, the SGD update) is the engine's overhead.
import Autograd

KernelChoice.applyAtLaunch()  // may re-execute once with faster OpenBLAS kernels (Autograd/Speed/KernelChoice.swift)
BenchMLP.main()
