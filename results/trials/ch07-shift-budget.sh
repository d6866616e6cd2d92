#!/usr/bin/env bash
# Is it the fine-tuning budget that keeps bigram shift at chance with 100 and 1,000 labels? Chapter 07's validation
# split (--validation: labelled examples and test sentences from the first part of the held-out novel; SST-2 from
# held-out training phrases), every start at one learning rate (3e-4, the middle of the grid) and both poolings,
# with the chapter's budget rule (at most 400 updates of 16, early stop after 4 flat validations) and with at most
# 2,000 updates and no early stop before 1,000 (--shift-updates 2000).
#   from the repository root, after `swift build -c release`:
#   scripts/record.sh trials/ch07-shift-budget bash results/trials/ch07-shift-budget.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
for updates in "" 2000; do
  echo "### shift updates: ${updates:-the budget rule}"
  ${BIN:-.build/release/ch07-text} --validation --rate-grid 0.0003 ${updates:+--shift-updates $updates} \
      --figures-dir .build/trial-figures --checkpoint-folder .build/trial-ch07 \
    | sed -n '/bigram shift, held-out accuracy/,/pooling mean/p; /fine-tuning runs in/p'
done
