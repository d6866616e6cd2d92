#!/usr/bin/env bash
# The trials behind chapter 07's pretraining recipe, on held-out text only (the fifth novel, never pretrained on):
# both objectives pretrained side by side for the chapter's 1,200 steps, lower-cased text, one change at a time;
# the masked LM's accuracy and perplexity at the chosen positions of the held-out novel decide. No SST-2 dev
# sentence and no bigram-shift test sentence is read (--pretrain-only stops after section 3).
#   from the repository root, after `swift build -c release`:
#   bash results/trials/ch07-recipe.sh > results/trials/ch07-recipe.txt
# (Recorded 2026-12-07 on the 2-core AMD EPYC with the flags of that day: lower-casing was `--lowercase` then and
# is the default now; the runs below spell today's flags.)
set -uo pipefail
cd "$(dirname "$0")/../.."
run() {
  echo "### $*"
  ${BIN:-.build/release/ch07-text} --pretrain-only --no-pretrained --checkpoint-folder .build/trial-ch07 --figures-dir .build/trial-figures "$@" \
    | grep -E "pretrainingDropout|frontEnd.masking|pretraining.peakLearningRate|both pretrainings took|data2vec: last|masked LM: last|Error"
}
run --pretraining-dropout 0.1                        # A: the paper's dropout
run --pretraining-dropout 0                          # B: no dropout (cramming)
run --pretraining-dropout 0 --mask-rate 0.3          # D: 30% masked (Wettig et al., 2023)
run --pretraining-dropout 0 --pretraining-rate 0.0006
run --pretraining-dropout 0 --pretraining-rate 0.006
