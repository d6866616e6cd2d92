#!/usr/bin/env bash
# Trials behind chapter 05's recipe choices (docs/deviations.md, Vision), made on the chapter's validation split
# (--validation: labelled images from the first 8,000 training images, scores on the last 2,000; no test image
# is read): each run pretrains the chapter's short run (2,000 steps, seed 0) with one setting changed, then
# scores the frozen k-NN and linear probes with 100 labels (5 draws); no fine-tuning. The last three runs are
# chapter 05's exercises 1-3, whose outcomes chapters/05-vision/README.md states.
#   from the repository root, after `swift build -c release`:
#   scripts/record.sh trials/ch05-choices bash results/trials/ch05-choices.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
run() {
  echo "### $*"
  .build/release/ch05-vision --validation --no-pretrained --pretrain-steps 2000 --label-counts 100 --fine-tune-counts 0 \
      --figures-dir .build/trial-figures --checkpoint .build/trial-ch05.safetensors "$@" \
    | grep -E "short run: (20-NN|linear probe)|pretraining took|\[FAILED\]|Error"
}
run                                    # the chapter's recipe
run --pretrain-learning-rate 0.002     # data2vec vision's peak learning rate (scaled to batch 64: lower still)
run --drop-path 0.1                    # BEiT's stochastic depth
run --layer-scale 0.1                  # BEiT's LayerScale
run --top-k 1                          # targets from the last block alone (exercise 1)
run --minimum-block 1                  # scattered single patches instead of blocks (exercise 2)
run --target feed-forward              # the speech and text target point on images (exercise 3)
