#!/usr/bin/env bash
# The trial behind chapter 07's target normalization: complete pretraining runs of 4,000 steps (the masked LM beside
# data2vec, as always), with each teacher block's output layer-normalized per token (data2vec 1.0's text config,
# `layer_norm_target_layer`) or instance-normalized per channel over each sequence (data2vec speech's
# `instance_norm_target_layer`, and data2vec 2.0's text config). Scored on the held-out novel by section 3: the
# hidden-token probe, the same probe with the token in view, and each block's share of variance between sequences.
#   from the repository root, after `swift build -c release`, one log per normalization (the two ran at the same time):
#   scripts/record.sh trials/ch07-target-norm-layer bash results/trials/ch07-target-norm.sh layer
#   scripts/record.sh trials/ch07-target-norm-instance bash results/trials/ch07-target-norm.sh instance
set -uo pipefail
cd "$(dirname "$0")/../.."
run() {
  echo "### $*"
  ${BIN:-.build/release/ch07-text} --no-pretrained --pretrain-only --pretrain-steps 4000 --threads 1 \
      --figures-dir .build/trial-figures "$@" | sed -n '/hidden-token probe/,/^Nearest/p; /pretraining took/p; /lowest target/p; /Error/p'
}
norm=${1:-}
if [ -n "$norm" ]; then run --target-norm "$norm" --checkpoint-folder ".build/trial/ch07-$norm"; exit; fi
for norm in layer instance; do run --target-norm $norm --checkpoint-folder .build/trial/ch07-$norm; done
