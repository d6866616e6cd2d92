#!/usr/bin/env bash
# Records the runs the chapter exercises ask for, each beside its chapter's main log, so that the answer key
# (Tests/ExerciseTests) can check the outcome each chapter's README states. From the repository root, after
# `swift build -c release`:
#   scripts/record-exercises.sh quick     chapters 01-05 (a few minutes)
#   scripts/record-exercises.sh slow      chapters 06-08 (about an hour and a quarter: each is a chapter run)
set -uo pipefail
cd "$(dirname "$0")/.."
figures=.build/exercise-figures
record() { scripts/record.sh "exercises/$1" "${@:2}" > /dev/null; echo "results/exercises/$1.txt: exit status $?"; }
case "${1:-quick}" in
quick)
  record ch01-threads-1          .build/release/ch01-tensors --threads 1 --figures-dir $figures
  record ch02-learning-rate-2    .build/release/ch02-autograd --learning-rate 2 --figures-dir $figures
  record ch02-hidden-4           .build/release/ch02-autograd --hidden 4 --figures-dir $figures
  record ch03-no-positions       .build/release/ch03-transformer --no-positions --figures-dir $figures
  record ch03-heads-1            .build/release/ch03-transformer --heads 1 --figures-dir $figures
  record ch03-learning-rate-0.01 .build/release/ch03-transformer --learning-rate 0.01 --figures-dir $figures
  record ch04-span-batch-64      .build/release/ch04-data2vec --span-batch 64 --figures-dir $figures
  record ch04-layerwise-norm-layer .build/release/ch04-data2vec --layerwise-norm layer --figures-dir $figures
  record ch04-top-k-1            .build/release/ch04-data2vec --top-k 1 --figures-dir $figures
  record ch04-collapse-tau-0.99  .build/release/ch04-data2vec --collapse-tau 0.99 --figures-dir $figures
  # Chapter 05, exercise 4: a data folder whose test images are the training images; the long checkpoints must be refused.
  copy=$(mktemp -d); mkdir -p "$copy/vision"
  cp data/vision/mnist_train_images.npy "$copy/vision/mnist_test_images.npy"
  cp data/vision/mnist_train_labels.npy "$copy/vision/mnist_test_labels.npy"
  cp data/vision/mnist_train_images.npy data/vision/mnist_train_labels.npy "$copy/vision/"
  record ch05-test-is-train      .build/release/ch05-vision --data-dir "$copy" --figures-dir $figures --checkpoint .build/exercise-ch05.safetensors
  rm -rf "$copy"
  ;;
slow)
  record ch06-span-length-10     .build/release/ch06-speech --span-length 10 --one-front-end --label-fractions 0.1 --figures-dir $figures --checkpoint .build/exercise-ch06-span.safetensors
  record ch06-top-k-1            .build/release/ch06-speech --top-k 1 --one-front-end --label-fractions 0.1 --figures-dir $figures --checkpoint .build/exercise-ch06-top-k.safetensors
  # after the chapter's own run (it reads the checkpoint that run saved)
  record ch06-ctc-frames-per-step-2 .build/release/ch06-speech --reuse-checkpoint --one-front-end --ctc-frames-per-step 2 --figures-dir $figures
  record ch07-masking-spans      .build/release/ch07-text --masking spans --figures-dir $figures --checkpoint-folder .build/exercise-ch07
  record ch07-top-k-1            .build/release/ch07-text --top-k 1 --figures-dir $figures --checkpoint-folder .build/exercise-ch07
  # Chapter 08, exercise 4: the headline arms pretrained 2.5 times longer, one pretraining seed (about 10 minutes).
  record ch08-pretrain-steps-3000 .build/release/ch08-ablations --pretrain-steps 3000 --pretraining-seeds 1 --figures-dir $figures
  ;;
esac
