// bench-data2vec: the data2vec training step on the configurations of ../pytorch/data2vec_step.py,
// timed with the project's own modules, beside PyTorch when it is installed.
// Run: make bench   (or: swift run -c release bench-data2vec [--configs vision-tiny] [--threads 1 2] [--python PATH])
// The step and the configurations are in StepSetup.swift; timing and the table in BenchData2Vec.swift.
import Autograd

KernelChoice.applyAtLaunch()  // may re-execute once with faster OpenBLAS kernels (Autograd/Speed/KernelChoice.swift)
BenchData2Vec.main()
