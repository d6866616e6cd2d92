#!/usr/bin/env bash
# The trial behind the masking and peak learning rates of chapter 06's section 4 (fine-tuning the whole encoder to read one
# clip's digit, and the same network from scratch), made on the chapter's validation split (--validation: labelled
# clips from the training clips of takes 10-49, scores on takes 5-9; no test clip is read). Fine-tuning starts from
# the committed 1,200-step runs (pretrained/ch06-speech-logmel, seeds 0-2). The masking probability (time and
# channels) is one for both arms; each arm keeps the rate with the best mean accuracy over 1, 5 and 10 labelled
# clips per digit at the chosen masking. (Section 6's CTC recipe, time masking p 0.65 and channel masking p 0.25,
# was tried first and read worse than both; it is not in this log.)
#   from the repository root, after `swift build -c release` and `make pretrained`:
#   scripts/record.sh trials/ch06-classify-rates bash results/trials/ch06-classify-rates.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
for mask in 0 0.05; do for rate in 0.0005 0.001 0.002; do
    echo "### --classify-mask-probability $mask --classify-learning-rate $rate"
    ${BIN:-.build/release/ch06-speech} --validation --reuse-checkpoint --one-front-end --label-fractions 0.01 \
        --checkpoint pretrained/ch06-speech-logmel/steps1200-seed0.safetensors --figures-dir .build/trial-figures \
        --classify-mask-probability "$mask" --classify-learning-rate "$rate" "$@" \
      | sed -n '/^## 4/,/^## 5/p' | grep -E "^ +[0-9]|^  \(test accuracy"
done; done
