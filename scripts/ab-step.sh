#!/usr/bin/env bash
# Two builds of bench-data2vec timed in turns, so that a machine whose speed drifts from minute to minute
# (a shared VM) slows both alike: ROUNDS rounds, each running before then after on every (config, threads).
# Prints every row and, per (config, threads), each round's after/before median and the median of those.
#   scripts/ab-step.sh /tmp/bench-before .build/release/bench-data2vec 6
# (build "before" from an earlier commit in a git worktree: git worktree add /tmp/before <commit>, then
#  swift build -c release --product bench-data2vec there.)
set -euo pipefail
before="$1"; after="$2"; rounds="${3:-6}"
configs="${CONFIGS:-vision-tiny text-tiny}"; threads="${THREADS:-1 2}"; steps="${STEPS:-20}"
for binary in "$before" "$after"; do [ -x "$binary" ] || { echo "ab-step.sh: $binary is not an executable"; exit 1; }; done
rows="$(mktemp /tmp/ab-step.XXXXXX)"
trap 'rm -f "$rows"' EXIT
for round in $(seq 1 "$rounds"); do
  for t in $threads; do
    for c in $configs; do
      for side in before after; do
        binary="$before"; [ "$side" = after ] && binary="$after"
        row="$("$binary" --config "$c" --threads "$t" --steps "$steps" --warmup 3 2>/dev/null | tail -1)"
        echo "round $round $side: $row"
        echo "$round $c $t $side $(echo "$row" | awk '{print $3}')" >> "$rows"
      done
    done
  done
done
echo
echo "after / before, each round's median step (and the median of the rounds):"
awk '{ key = $2 " " $3 " thr"; value[key, $1, $4] = $5; keys[key] = 1; if ($1 > n) n = $1 }
  END { for (k in keys) { line = sprintf("%-20s", k); m = 0
          for (r = 1; r <= n; r++) { ratio[++m] = value[k, r, "after"] / value[k, r, "before"]; line = line sprintf(" %.3f", ratio[m]) }
          for (i = 2; i <= m; i++) { x = ratio[i]; for (j = i - 1; j >= 1 && ratio[j] > x; j--) ratio[j + 1] = ratio[j]; ratio[j + 1] = x }
          mid = (m % 2) ? ratio[(m + 1) / 2] : (ratio[m / 2] + ratio[m / 2 + 1]) / 2
          printf "%s   median %.3f\n", line, mid; delete ratio } }' "$rows" | sort
