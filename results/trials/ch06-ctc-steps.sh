#!/usr/bin/env bash
# The trial behind chapter 06's CTC frame rate and update budget with 10% of the labelled strings, made on the
# chapter's validation split (--validation: strings made of training clips of takes 5-9, labels from the other
# training clips; no test clip is read), fine-tuning the committed 1,200-step runs (pretrained/ch06-speech-logmel,
# seeds 0-1) against training from scratch, both at the peak learning rate of results/trials/ch06-ctc-choices.txt.
# The 1,000-update runs of 10% all reached their cap there (200 passes over the labelled strings, about 1,000 updates):
# does a larger budget change the comparison? (--ctc-updates raises the passes with the updates.)
#   from the repository root, after `swift build -c release` and `make pretrained`:
#   scripts/record.sh trials/ch06-ctc-steps bash results/trials/ch06-ctc-steps.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
for frames in 2 1; do for updates in 1000 3000; do
    echo "### --ctc-frames-per-step $frames --ctc-updates $updates"
    ${BIN:-.build/release/ch06-speech} --validation --reuse-checkpoint --one-front-end --label-fractions 0.1 \
        --checkpoint pretrained/ch06-speech-logmel/steps1200-seed0.safetensors --figures-dir .build/trial-figures \
        --ctc-frames-per-step "$frames" --ctc-updates "$updates" "$@" \
      | sed -n '/^## 6/,/^## 7/p' | grep -E "^ +[0-9]|^  \(digit error"
done; done
