#!/usr/bin/env bash
# What each switchable piece of the speed machinery buys: the data2vec step chapter 05 pretrains with
# (vision-tiny, batch 64) timed with the piece and without it, in turns, so that both sides see the same
# minutes of a machine whose speed drifts. From the repository root, after `swift build -c release`:
#   scripts/record.sh speed-machinery scripts/speed-machinery.sh
# Each line: the two settings, the median over the rounds of each process's median step time, and their ratio.
set -uo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-6}
STEPS=${STEPS:-20}

# One process of bench-data2vec: "ENV=VALUE ..." THREADS -> its median milliseconds per step.
step_ms() {
  env $1 .build/release/bench-data2vec --config vision-tiny --threads "$2" --steps "$STEPS" --warmup 3 --json 2>/dev/null \
    | python3 -c 'import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["medianMs"])'
}

# name, setting A, threads A, setting B, threads B
compare() {
  local as="" bs=""
  for _ in $(seq "$ROUNDS"); do
    as="$as $(step_ms "$2" "$3")"
    bs="$bs $(step_ms "$4" "$5")"
  done
  python3 - "$1" "${2:-defaults}, $3 threads" "${4:-defaults}, $5 thread$([ "$5" = 1 ] || echo s)" "$as" "$bs" <<'PY'
import statistics, sys
name, a, b, xs, ys = sys.argv[1:]
xs, ys = [float(v) for v in xs.split()], [float(v) for v in ys.split()]
ma, mb = statistics.median(xs), statistics.median(ys)
print(f"{name}: with it ({a}) {ma:.1f} ms, without it ({b}) {mb:.1f} ms; without it a step takes {mb / ma:.2f}x as long")
print(f"  rounds: {' '.join(f'{x:.1f}' for x in xs)} | {' '.join(f'{y:.1f}' for y in ys)}")
PY
}

echo "vision-tiny data2vec step (chapter 05's), median ms per step; $ROUNDS rounds of $STEPS timed steps, the two settings in turns"
compare "sixteen lanes on AVX-512 (WideKernels, LaneWidth)" "DATA2VEC_LANES=16" 2 "DATA2VEC_LANES=8" 2
compare "the second core (Parallel, WorkerPool, BLAS's split)" "" 2 "" 1
compare "OpenBLAS's own fast kernels (what KernelChoice ensures)" "OPENBLAS_CORETYPE=Haswell" 2 "OPENBLAS_CORETYPE=Prescott" 2
