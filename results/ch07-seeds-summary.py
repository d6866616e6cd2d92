#!/usr/bin/env python3
# Chapter 07 over its pretraining seeds: reads the chapter's logs on each committed pair (the same labelled draws,
# pretrained with seed 0 and seed 1), and prints each measurement per pretraining seed and their mean: the
# hidden-token probe, SST-2 and bigram shift per label count (mean over the draws), and the paired differences
# (data2vec minus scratch, minus Naive Bayes, minus the masked LM) that the chapter's goals are about. Standard
# library only.
#   scripts/record.sh ch07-seeds-summary python3 results/ch07-seeds-summary.py results/ch07-text.txt results/ch07-text-seed1.txt
import re
import sys


def table(text, heading):
    """The rows of the few-label table after `heading`: method -> [accuracy per count], and the counts."""
    block = text.split(heading, 1)[1]
    lines = block.split("\n")
    counts = [int(c) for c in re.findall(r"(\d+) labels", lines[1])]
    rows = {}
    for line in lines[2:]:
        cells = re.findall(r"(\d+\.\d)%", line)
        if not cells:
            break
        rows[line[:38].strip()] = [float(c) for c in cells]
    return counts, rows


def paired(text, heading, pair):
    """The mean paired differences of `pair` ("data2vec - from scratch") in the block after `heading`."""
    block = text.split(heading, 1)[1].split("paired differences", 1)[1]
    line = next(l for l in block.split("\n") if l.strip().startswith(pair + ":"))
    return {int(c): float(d) for c, d in re.findall(r"(\d+): ([+-]\d+\.\d)", line)}


def probe(text):
    block = text.split("hidden-token probe", 1)[1]
    return {name: float(re.search(name + r"\s+(\d+\.\d)%", block).group(1)) for name in ["data2vec", "masked LM", "random encoder"]}


logs = [(path, open(path).read()) for path in sys.argv[1:]]
names = [re.search(r"pretrained side by side with seed (\d+)", t).group(1) if "with seed" in t else "0" for _, t in logs]
print("pretraining seeds: " + ", ".join(f"{n} ({p})" for n, (p, _) in zip(names, logs)))


def report(title, values):
    """One line: each seed's value and the mean."""
    mean = sum(values) / len(values)
    print(f"  {title:<44}" + "".join(f"{v:>8.1f}" for v in values) + f"{mean:>9.1f}")


print("\n  " + " " * 44 + "".join(f"{'seed ' + n:>8}" for n in names) + f"{'mean':>9}")
print("hidden-token probe (%)")
for name in ["data2vec", "masked LM", "random encoder"]:
    report(name, [probe(t)[name] for _, t in logs])
for heading, title in [("SST-2 dev accuracy (mean", "SST-2"), ("bigram-shift test accuracy", "bigram shift")]:
    counts, _ = table(logs[0][1], heading)
    print(f"{title} (% of the test, mean over the draws)")
    for method in ["Naive Bayes (words)", "data2vec", "masked LM", "from scratch"]:
        for i, count in enumerate(counts):
            report(f"{method}, {count} labels", [table(t, heading)[1][method][i] for _, t in logs])
    print(f"{title}, paired differences (points)")
    pairs = ["data2vec - from scratch", "data2vec - masked LM"] + (["data2vec - Naive Bayes (words)"] if title == "SST-2" else [])
    for pair in pairs:
        for count in counts:
            report(f"{pair}, {count}", [paired(t, heading, pair)[count] for _, t in logs])


def mean_paired(heading, pair, count):
    values = [paired(t, heading, pair)[count] for _, t in logs]
    return sum(values) / len(values)


print("\nthe chapter's goals, on the mean over the pretraining seeds:")
goals = [
    ("bigram-shift test accuracy", "data2vec - from scratch", 1000, 15, "on bigram shift with 1000 labels, data2vec at least 15 points above scratch"),
]
for count in [100, 300]:
    goals += [
        ("SST-2 dev accuracy (mean", "data2vec - from scratch", count, 5, f"on SST-2 with {count} labels, data2vec at least 5 points above scratch"),
        ("SST-2 dev accuracy (mean", "data2vec - Naive Bayes (words)", count, 0, f"on SST-2 with {count} labels, data2vec not below Naive Bayes"),
        ("SST-2 dev accuracy (mean", "data2vec - masked LM", count, -2, f"on SST-2 with {count} labels, data2vec within 2 points of the masked LM or above"),
    ]
for heading, pair, count, threshold, words in goals:
    d = mean_paired(heading, pair, count)
    print(f"  [{'yes' if d >= threshold else 'no'}] {words} (paired: {d:+.1f})")
