#!/usr/bin/env bash
# The trial behind chapter 06's pretraining recipe, on the chapter's validation split (--validation: labelled clips
# from the training clips of takes 10-49, scores on takes 5-9; no test clip is read): the chapter's short pretraining
# (1,200 steps, log-mel front end, seeds 0-2) with one knob changed at a time, scored by section 3's few-label
# protocol on frozen features (--frozen-only stops there). What is compared: data2vec's logistic probe against the
# random encoder's and log-mel statistics' (the same for every recipe of a seed).
#   from the repository root, after `swift build -c release`:
#   scripts/record.sh trials/ch06-recipe bash results/trials/ch06-recipe.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
run() {
  echo "### $*"
  ${BIN:-.build/release/ch06-speech} --validation --no-pretrained --one-front-end --frozen-only \
      --figures-dir .build/trial-figures --checkpoint .build/trial-ch06.safetensors "$@" \
    | grep -E "pretraining took|lowest target|log-mel statistics, logistic|random encoder \(logmel\), logistic|data2vec, this run \(logmel\), logistic|\[FAILED\]|Error"
}
for seed in 0 1 2; do
  run --seed $seed                                   # the chapter's recipe
  run --seed $seed --span-length 10                  # spans of 100 ms
  run --seed $seed --span-length 5                   # spans of 50 ms
  run --seed $seed --mask-probability 0.5            # fewer masked frames
  run --seed $seed --ema-decays 0.999 0.9999         # the paper's tau (a slower teacher)
  run --seed $seed --ema-decays 0.95 0.99            # a faster teacher
  run --seed $seed --top-k 1                         # targets from the last block only
  run --seed $seed --pretraining-dropout 0           # no dropout in pretraining
  run --seed $seed --pretraining-rate 0.001          # half the learning rate
  run --seed $seed --pretraining-rate 0.004          # twice the learning rate
done
