// The choice of OpenBLAS kernels at launch (Autograd/Speed/KernelChoice.swift): the pure decision and the
// sgemm self-test that guards it.
import Testing
@testable import Autograd

@Suite("OpenBLAS kernel choice")
struct KernelChoiceTests {
    let skylake: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    @Test func aValueTheEnvironmentSetIsNeverOverridden() {
        for core in ["Prescott", "Haswell", "SkylakeX"] {
            let decision = KernelChoice.decide(cpuFlags: skylake, reportedCore: core, environmentValue: "Prescott")
            #expect(decision == .keep(reason: "OPENBLAS_CORETYPE=Prescott set by the environment"))
        }
    }

    @Test func aGenericFallbackOnAnAVX512CPUBecomesSkylakeX() {
        guard case .use(let core, _) = KernelChoice.decide(cpuFlags: skylake, reportedCore: "Prescott", environmentValue: nil) else {
            Issue.record("expected a choice")
            return
        }
        #expect(core == "SkylakeX")
    }

    @Test func aGenericFallbackOnAnAVX2CPUBecomesHaswell() {
        // AVX-512F alone is not enough for the SkylakeX kernels (they need the BW/DQ/VL/CD subsets too).
        let flags: Set<String> = ["avx", "avx2", "fma", "avx512f"]
        for generic in ["Prescott", "Core2", "Nehalem", "Barcelona"] {
            guard case .use(let core, _) = KernelChoice.decide(cpuFlags: flags, reportedCore: generic, environmentValue: nil) else {
                Issue.record("expected a choice for \(generic)")
                continue
            }
            #expect(core == "Haswell")
        }
    }

    @Test func aRecognizedCPUOrAnOldOneKeepsItsKernels() {
        #expect(KernelChoice.decide(cpuFlags: skylake, reportedCore: "Zen", environmentValue: nil) == .keep(reason: "OpenBLAS recognized this CPU"))
        #expect(KernelChoice.decide(cpuFlags: skylake, reportedCore: "Haswell", environmentValue: "") == .keep(reason: "OpenBLAS recognized this CPU"))
        guard case .keep = KernelChoice.decide(cpuFlags: ["sse2", "avx"], reportedCore: "Prescott", environmentValue: nil) else {
            Issue.record("a CPU without AVX2 + FMA must keep the generic kernels")
            return
        }
    }

    @Test func flagsAreReadFromCpuinfo() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx2 fma avx512f\nbogomips\t: 4200.00\n"
        #expect(KernelChoice.cpuFlags(cpuInfo: cpuinfo) == ["fpu", "sse2", "avx2", "fma", "avx512f"])
        #expect(KernelChoice.cpuFlags(cpuInfo: nil).isEmpty)
        #expect(KernelChoice.cpuFlags(cpuInfo: "no flags here").isEmpty)
    }

    @Test func theKernelsThatRunPassTheSelfTest() {
        #expect(KernelChoice.selfTestFailure() == nil)
    }
}
