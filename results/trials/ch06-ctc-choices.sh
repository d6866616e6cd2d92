#!/usr/bin/env bash
# Trials behind chapter 06's CTC choices (the peak learning rate per recognizer and fraction of labelled strings,
# and freeze_finetune_updates), made on the chapter's validation split (--validation: strings made of the
# training clips of takes 5-9, labelled strings from the other training clips; no test clip is read).
# Fine-tuning starts from the committed 1,200-step runs of seeds 0 and 1 (pretrained/ch06-speech-logmel), the
# ones the chapter fine-tunes, seed by seed; nothing is pretrained again.
#   from the repository root, after `swift build -c release` and `make pretrained`:
#   scripts/record.sh trials/ch06-ctc-choices bash results/trials/ch06-ctc-choices.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=pretrained/ch06-speech-logmel
run() {
  echo "### $*"
  ${BIN:-.build/release/ch06-speech} --validation --one-front-end --reuse-checkpoint --checkpoint $runs/steps1200-seed0.safetensors \
      --pretrained $runs/steps1200-seed0.safetensors $runs/steps1200-seed1.safetensors --figures-dir .build/trial-figures "$@" \
    | grep -E "^ +[0-9]+% \(|updates:|\[FAILED\]|Error"
}
for rate in 0.0005 0.002 0.005; do
  run --label-fractions 0.01 0.1 1 --fine-tune-learning-rate $rate --scratch-learning-rate $rate
done
for rate in 0.002 0.005; do   # wav2vec 2.0's frozen start, scaled: 400 of the 500-1,000 updates
  run --label-fractions 0.01 0.1 --fine-tune-learning-rate $rate --scratch-learning-rate $rate --freeze-updates 400
done
