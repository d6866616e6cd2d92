"""Reference values of the CTC loss from PyTorch, for Tests/AutogradTests/CTCTests.swift.

Run:  python3 -m venv venv && venv/bin/pip install torch && venv/bin/python make_ctc_fixtures.py
It writes ctc_fixtures.json next to this file; the Swift tests never need Python.

Each case: logits [B, T, C] (unnormalized), input lengths, targets, and from
torch.nn.functional.ctc_loss(logits.log_softmax(-1).transpose(0, 1), ..., blank=0, zero_infinity=True):
the per-sequence losses (reduction "none"), the "mean" loss (each loss divided by its target length,
then averaged over the batch), and the gradient of the "mean" loss with respect to the logits; and fairseq's
reduction (criterions/ctc.py: reduction "sum", divided by the number of sentences with sentence_avg: true)
with its gradient.
"""
import json
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def case(batch, frames, classes, input_lengths, targets, scale=1.0):
    logits = (torch.randn(batch, frames, classes) * scale).requires_grad_(True)
    log_probs = logits.log_softmax(-1).transpose(0, 1)
    flat = torch.tensor([label for target in targets for label in target], dtype=torch.long)
    target_lengths = torch.tensor([len(target) for target in targets], dtype=torch.long)
    lengths = torch.tensor(input_lengths, dtype=torch.long)
    per_sequence = F.ctc_loss(log_probs, flat, lengths, target_lengths, blank=0, reduction="none", zero_infinity=True)
    mean = F.ctc_loss(log_probs, flat, lengths, target_lengths, blank=0, reduction="mean", zero_infinity=True)
    mean.backward()
    mean_gradient = logits.grad.reshape(-1).tolist()
    logits.grad = None
    sentence_avg = F.ctc_loss(logits.log_softmax(-1).transpose(0, 1), flat, lengths, target_lengths, blank=0, reduction="sum",
                              zero_infinity=True) / batch
    sentence_avg.backward()
    return {"logits": {"shape": list(logits.shape), "values": logits.detach().reshape(-1).tolist()},
            "input_lengths": input_lengths, "targets": targets,
            "per_sequence": per_sequence.detach().tolist(), "mean": float(mean.detach()),
            "gradient": mean_gradient,
            "sentence_avg": float(sentence_avg.detach()), "sentence_avg_gradient": logits.grad.reshape(-1).tolist()}


cases = {
    "two labels": case(1, 6, 5, [6], [[1, 2]]),
    "repeated label needs a blank": case(1, 5, 4, [5], [[3, 3]]),
    "barely long enough": case(1, 4, 4, [4], [[1, 1, 2]], scale=2.0),
    "batch with padding": case(2, 8, 6, [8, 6], [[1, 2, 3], [4]]),
    "too short: zero infinity": case(1, 2, 3, [2], [[1, 1]]),
}
out = pathlib.Path(__file__).with_name("ctc_fixtures.json")
out.write_text(json.dumps({"torch_version": torch.__version__, "cases": cases}, indent=0))
print(f"wrote {out} with {len(cases)} cases (torch {torch.__version__})")
