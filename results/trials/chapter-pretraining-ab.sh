#!/usr/bin/env bash
# Pretraining speed of chapters 05 and 06 with two engines, in turns: commit 414c775's (/tmp/before) and this one's.
# Each run pretrains 300 steps; `timeout 90` then stops it during the evaluation that follows (only the pretraining line is kept).
cd /work/main
for chapter in ch05-vision ch06-speech; do
  for round in 1 2 3; do
    for side in before after; do
      b=.build/release; [ "$side" = before ] && b=/tmp/before/.build/release
      line=$(timeout 90 "$b/$chapter" --pretrain-steps 300 --figures-dir /tmp/fig-ab --checkpoint "/tmp/ab-$side.safetensors" 2>&1 | grep "pretraining took")
      echo "$chapter round $round $side:$line"
    done
  done
done
