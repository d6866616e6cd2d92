#!/usr/bin/env bash
# Which functions of the benchmark executable use AVX-512 registers: zmm registers, the mask registers k0-k7,
# or xmm/ymm 16-31 (EVEX-only). Only WideKernels' entry points may (they run only on CPUs with AVX-512).
cd "$(dirname "$0")/../.."
binary="${1:-.build/release/bench-data2vec}"
objdump -d --no-show-raw-insn "$binary" | swift demangle --compact | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = $0 }
  /zmm|%k[0-7]|%[xy]mm(1[6-9]|2[0-9]|3[01])/ { count[fn]++ }
  END { for (f in count) print count[f], f }' | sort -rn
