#!/usr/bin/env python3
# Summarizes results/trials/ch06-positions.txt: for the chapter's convolutional positions and for data2vec speech's
# time span, over the 3 pretraining seeds, data2vec's logistic probe and its random encoder's (the same
# architecture, untrained), each averaged over 1, 5 and 10 labelled clips per digit, and data2vec's margin over its
# random encoder, seed by seed. Standard library only.
#   scripts/record.sh trials/ch06-positions-summary python3 results/trials/ch06-positions-summary.py results/trials/ch06-positions.txt
import re
import sys

runs = open(sys.argv[1]).read().split("### ")[1:]
by_setting = {}
for run in runs:
    head = run.split("\n")[0]
    seed = re.search(r"--seed (\d+)", head).group(1)
    setting = re.sub(r"--seed \d+ ?", "", head).strip() or "the chapter's positions (3 layers, kernel 9)"
    d2v = re.search(r"data2vec, this run \(logmel\), logistic\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%", run)
    rnd = re.search(r"random encoder \(logmel\), logistic\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%", run)
    if not (d2v and rnd):
        continue
    d = sum(float(x) for x in d2v.groups()) / 3
    r = sum(float(x) for x in rnd.groups()) / 3
    by_setting.setdefault(setting, []).append((seed, d, r, d - r))

print("logistic probe on the first block, mean over 1, 5 and 10 labelled clips per digit (validation split)")
for setting, rows in by_setting.items():
    n = len(rows)
    print(f"\n{setting}")
    for seed, d, r, g in rows:
        print(f"  seed {seed}: data2vec {d:.1f}%, random encoder {r:.1f}%, margin {g:+.1f}")
    print(f"  mean over {n} seeds: data2vec {sum(x[1] for x in rows) / n:.1f}%, random encoder {sum(x[2] for x in rows) / n:.1f}%, "
          f"margin {sum(x[3] for x in rows) / n:+.1f}")
