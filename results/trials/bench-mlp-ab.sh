#!/usr/bin/env bash
# bench-mlp with commit 414c775's engine (/tmp/before, a git worktree built in release mode) and this commit's, in turns.
cd "$(dirname "$0")/../.."
for round in 1 2 3 4; do
  for side in before after; do
    b=.build/release/bench-mlp; [ "$side" = before ] && b=/tmp/before/.build/release/bench-mlp
    echo "round $round $side:"; "$b" 2>&1 | tail -2
  done
done
