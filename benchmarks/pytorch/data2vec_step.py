"""The data2vec training step of bench-data2vec, in PyTorch on CPU, for a side-by-side comparison.

    python benchmarks/pytorch/data2vec_step.py --config vision-tiny --threads 2 [--steps 50] [--warmup 5]

Prints a human-readable line on stderr and one JSON line on stdout (the fields of bench-data2vec's
`Measurement`), so `make bench PYTHON=...` can put both in one table. The step is the one described in
benchmarks/data2vec-step/StepSetup.swift: fixed-count random masks, patch or token embedding with a
learned mask vector or mask token, learned positions, pre-LN blocks without dropout, an EMA teacher over
the blocks and the final LayerNorm, targets = mean of the top K blocks' FFN outputs each layer-normalized
without parameters, a Linear head at the masked positions, Smooth L1 summed over channels and averaged
over masked positions times 1/sqrt(D), AdamW (lr 1e-3, wd 0.05), EMA with tau 0.999.
Eager mode with explicit attention (softmax(QK^T/sqrt(dh))V), which is what the Swift engine computes.
"""
import argparse
import copy
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

CONFIGS = {  # batch, tokens, D, blocks, heads, MLP, K, masked, beta
    "vision-tiny": ("vision", 64, 49, 64, 4, 4, 256, 4, 29, 2.0),
    "vision-small": ("vision", 64, 49, 256, 6, 8, 1024, 6, 29, 2.0),
    "text-tiny": ("text", 64, 64, 64, 4, 4, 256, 4, 10, 4.0),
}
VOCABULARY, MASK_ID = 2048, 3


class PreLNBlock(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.out((weights @ v).transpose(1, 2).reshape(b, t, d))
        ffn = self.fc2(F.gelu(self.fc1(self.norm2(x))))
        return x + ffn, ffn


class Encoder(nn.Module):
    def __init__(self, d, blocks, heads, hidden):
        super().__init__()
        self.blocks = nn.ModuleList(PreLNBlock(d, heads, hidden) for _ in range(blocks))
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        ffns = []
        for block in self.blocks:
            x, ffn = block(x)
            ffns.append(ffn)
        return self.norm(x), ffns


class Data2VecStep(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.kind, self.b, self.t, self.d, blocks, heads, hidden, self.k, self.masked, self.beta = CONFIGS[name]
        if self.kind == "vision":
            self.embed = nn.Linear(16, self.d)
            self.mask_vector = nn.Parameter(torch.randn(self.d) * 0.02)
        else:
            self.embed = nn.Embedding(VOCABULARY, self.d)
        self.positions = nn.Parameter(torch.randn(self.t, self.d) * 0.02)
        self.student = Encoder(self.d, blocks, heads, hidden)
        self.head = nn.Linear(self.d, self.d)
        self.teacher = copy.deepcopy(self.student).requires_grad_(False)

    def trainable(self):
        return [p for name, p in self.named_parameters() if not name.startswith("teacher.")]

    def loss(self, batch):
        b, t, d = self.b, self.t, self.d
        chosen = torch.rand(b, t).argsort(dim=1)[:, : self.masked]
        mask = torch.zeros(b, t, dtype=torch.bool).scatter_(1, chosen, True)
        if self.kind == "vision":  # [B, 28, 28] -> [B, 49, 16] patches
            features = self.embed(batch.view(b, 7, 4, 7, 4).permute(0, 1, 3, 2, 4).reshape(b, 49, 16))
            student_in = torch.where(mask.unsqueeze(-1), self.mask_vector, features) + self.positions
        else:
            features = self.embed(batch)
            student_in = self.embed(batch.masked_fill(mask, MASK_ID)) + self.positions
        with torch.no_grad():
            _, ffns = self.teacher((features + self.positions).detach())
            target = sum(F.layer_norm(f, (d,)) for f in ffns[-self.k:]) / self.k
        out, _ = self.student(student_in)
        prediction = self.head(out[mask])
        loss = F.smooth_l1_loss(prediction, target[mask], reduction="none", beta=self.beta).sum(-1).mean()
        return loss / math.sqrt(d)

    @torch.no_grad()
    def ema(self, tau=0.999):
        for t, s in zip(self.teacher.parameters(), self.student.parameters()):
            t.lerp_(s, 1 - tau)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Data2VecStep(args.config)
    optimizer = torch.optim.AdamW(model.trainable(), lr=1e-3, weight_decay=0.05)
    if model.kind == "vision":
        batch = torch.randn(model.b, 28, 28)
    else:
        batch = torch.randint(4, VOCABULARY, (model.b, model.t))

    def step():
        loss = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        model.ema()
        return float(loss.detach())

    first = step()
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        last = step()
        times.append((time.perf_counter() - start) * 1e3)
    b, t, d = model.b, model.t, model.d
    _, _, _, _, blocks, _, hidden, _, masked, _ = CONFIGS[args.config]
    block = 2 * b * t * (4 * d * d + 2 * d * hidden) + 4 * b * t * t * d
    embedding = 2 * b * t * 16 * d if model.kind == "vision" else 0
    head = 2 * b * masked * d * d
    flops = (embedding + blocks * block + head) + blocks * block + (2 * (blocks * block + head) + embedding)
    result = dict(config=args.config, threads=args.threads, medianMs=statistics.median(times), minMs=min(times),
                  maxMs=max(times), gflopsPerStep=flops / 1e9,
                  peakRSSMiB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  firstLoss=first, lastLoss=last, timesMs=times)
    print(f"pytorch {torch.__version__} {args.config} threads={args.threads}: median {result['medianMs']:.1f} ms "
          f"(min {result['minMs']:.1f}, max {result['maxMs']:.1f}), peak RSS {result['peakRSSMiB']:.0f} MiB", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
