#!/usr/bin/env bash
# Runs a command and keeps its whole output in results/<name>.txt, headed by the command, the date, the
# machine, the operating system's kernel and the OpenBLAS kernels the environment asks for (every chapter and
# benchmark also prints the kernels that ran), so that every number the documents quote has its source.
#   scripts/record.sh ch05-vision .build/release/ch05-vision
#   scripts/record.sh ch04-data2vec-seed1 .build/release/ch04-data2vec --seed 1 --figures-dir /tmp/figures-seed1
set -uo pipefail
cd "$(dirname "$0")/.."
name="$1"; shift
out="results/$name.txt"
mkdir -p "$(dirname "$out")"
{
  echo "command: $*"
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
  echo "kernel: $(uname -sr); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset: the program chooses, and says which)}"
  echo
} > "$out.partial"
"$@" 2>&1 | tee -a "$out.partial"
status=${PIPESTATUS[0]}
mv "$out.partial" "$out"
echo "(exit status $status; log: $out)"
exit "$status"
