#!/usr/bin/env bash
# The trial behind chapter 06's convolutional positions, on the chapter's validation split (--validation: labelled
# clips from the training clips of takes 10-49, scores on takes 5-9; no test clip is read): the chapter's short
# pretraining (1,200 steps, log-mel front end, seeds 0-2) with 3 layers of kernel 9 over 10 ms frames (250 ms of
# context) against data2vec speech's time span, 5 layers of kernel 19 over 20 ms frames (1.82 s), which at
# 10 ms frames is 5 layers of kernel 37. Scored by section 3's few-label protocol; CTC at 1% only.
#   from the repository root, after `swift build -c release`:
#   scripts/record.sh trials/ch06-positions bash results/trials/ch06-positions.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
run() {
  echo "### $*"
  ${BIN:-.build/release/ch06-speech} --validation --no-pretrained --one-front-end --label-fractions 0.01 \
      --figures-dir .build/trial-figures --checkpoint .build/trial-ch06.safetensors "$@" \
    | grep -E "pretraining took|data2vec, this run \(logmel\), logistic|random encoder \(logmel\), logistic|\[FAILED\]|Error"
}
for seed in 0 1 2; do
  run --seed $seed                                         # the chapter's positions
  run --seed $seed --position-depth 5 --position-kernel 37 # data2vec speech's span in time
done
