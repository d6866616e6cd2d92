#!/usr/bin/env bash
# The trial behind chapter 06's choices of view (which pooled features section 3 reports) and of the pretraining
# length its headline reports and sections 4 and 6 fine-tune, made on the chapter's
# validation split (--validation: labelled clips from the training clips of takes 10-49, scores on takes 5-9; no
# test clip is read), with the committed runs (pretrained/ch06-speech-logmel: 1,200 to 8,000 steps, seeds 0-2)
# and the chapter's own run stood in for by the committed 1,200-step run of seed 0. The line "by view" (for
# the longest runs) is the choice of view; the table "what longer pretraining buys" (with the view chosen) is the
# choice of length: the best mean over 1, 5 and 10 labelled clips per digit in each. (Recorded when that table was
# section 4; the chapter's fine-tuning section, now section 4, came later and is not part of this choice.)
#   from the repository root, after `swift build -c release` and `make pretrained`:
#   scripts/record.sh trials/ch06-views bash results/trials/ch06-views.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
${BIN:-.build/release/ch06-speech} --validation --reuse-checkpoint --one-front-end --label-fractions 0.01 \
    --checkpoint pretrained/ch06-speech-logmel/steps1200-seed0.safetensors --figures-dir .build/trial-figures "$@" \
  | sed -n '/^## 3/,/^## 6/p' | grep -E "^ +[a-z0-9]|\[(yes|no|ok|FAILED)\]"
