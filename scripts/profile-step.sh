#!/usr/bin/env bash
# Where a data2vec training step spends its time, by kind of work: samples Linux `perf` takes while
# bench-data2vec runs one configuration, grouped by the function they fall in.
#   scripts/profile-step.sh text-tiny 1        (configuration, threads)
# Needs `perf` (Debian: linux-perf) and a release build (swift build -c release --product bench-data2vec);
# BENCH=/path/to/bench-data2vec profiles another build (for example one of an earlier commit).
# The milliseconds are the shares of the run's median step; warm-up and setup samples are a few percent.
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-text-tiny}"; threads="${2:-1}"
command -v perf >/dev/null || { echo "profile-step.sh: perf not found (Debian: sudo apt-get install linux-perf)"; exit 1; }
bench="${BENCH:-.build/release/bench-data2vec}"
[ -x "$bench" ] || { echo "profile-step.sh: $bench not found; build first: swift build -c release --product bench-data2vec"; exit 1; }
data="$(mktemp /tmp/profile-step.XXXXXX)"
trap 'rm -f "$data"' EXIT
row="$(perf record -q -o "$data" "$bench" --config "$config" --threads "$threads" --steps 40 2>/dev/null | tail -1)"
echo "$row"
median="$(echo "$row" | awk '{print $3}')"
echo "share of all samples (both threads), and that share of the median step, by kind of work:"
perf report -i "$data" --no-children --sort symbol -g none 2>/dev/null | grep -E '^ +[0-9.]+%' | awk -v median="$median" '
  { share = $1; sub(/%/, "", share); name = $3
    if (name ~ /sgemm|gemm_|cblas|memset/) kind = "matrix products (OpenBLAS: kernels, packing, clearing C)"
    else if (name ~ /gelu/) kind = "GELU (forward and backward)"
    else if (name ~ /softmaxColumns|softmaxGradientColumns|drawDropMask|multiHeadAttention/) kind = "attention besides its products (softmax, masks)"
    else if (name ~ /layerNorm/) kind = "LayerNorm (forward and backward)"
    else if (name ~ /linear/) kind = "linear layers besides the product (bias)"
    else if (name ~ /broadcastMap|accumulateBroadcast|TensorC1poi|TensorC1soi|TensorC1moi|TensorC1doi|arithmetic|where/) kind = "elementwise + - * where (residuals, masks)"
    else if (name ~ /AdamW|EMATeacher|Optim/) kind = "optimizer and EMA teacher"
    else if (name ~ /KernelChoice/) kind = "start-up (kernel self-test)"
    else if (name ~ /WorkerPool|clock_gettime|dispatch_time/) kind = "waiting (workers between regions, the caller for the last chunk)"
    else if (name ~ /schedule|sched_yield|syscall|futex/) kind = "scheduler and system calls (threads waiting or yielding)"
    else if (name ~ /^[_a-z]/ && name !~ /^\$s/) kind = "system (allocation, threads, memory)"
    else kind = "everything else (loss, targets, masks, graph)"
    total[kind] += share }
  END { for (k in total) printf "%6.1f%%  %6.1f ms  %s\n", total[k], total[k] * median / 100, k }' | sort -rn
