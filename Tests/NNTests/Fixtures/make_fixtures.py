"""Reference outputs and gradients from PyTorch for the NN tests (Tests/NNTests/FixtureTests.swift).

Run:  python3 -m venv venv && venv/bin/pip install torch numpy && venv/bin/python make_fixtures.py
It writes fixtures.json next to this file. Every case is float32 and tiny; the Swift tests compare
against it with named tolerances and never need Python.

Each case stores its inputs, its parameters (under the Swift module's parameter names), weights r that
define the scalar L = sum(r * output), and PyTorch's outputs and dL/d(everything).
"""
import json
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(0)
cases = {}


def t(x):
    return {"shape": list(x.shape), "values": [float(v) for v in x.detach().reshape(-1).tolist()]}


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


# --- Linear: y = x W^T + b -------------------------------------------------------------------------
x, w, b = leaf(2, 3, 4), leaf(5, 4), leaf(5)
y = F.linear(x, w, b)
r = torch.randn_like(y)
(r * y).sum().backward()
cases["linear"] = {"x": t(x), "weight": t(w), "bias": t(b), "r": t(r), "y": t(y),
                   "dx": t(x.grad), "dweight": t(w.grad), "dbias": t(b.grad)}

# --- LayerNorm over the last axis, eps 1e-5, with affine parameters --------------------------------
x, w, b = leaf(3, 6), leaf(6), leaf(6)
y = F.layer_norm(x, (6,), w, b, eps=1e-5)
r = torch.randn_like(y)
(r * y).sum().backward()
cases["layer_norm"] = {"x": t(x), "weight": t(w), "bias": t(b), "r": t(r), "y": t(y),
                       "dx": t(x.grad), "dweight": t(w.grad), "dbias": t(b.grad)}

# --- Multi-head self-attention with a key padding mask: nn.MultiheadAttention --------------------
B, T, D, H = 2, 4, 8, 2
mha = torch.nn.MultiheadAttention(D, H, batch_first=True)
x = leaf(B, T, D)
pad = torch.tensor([[False, False, False, False], [False, False, True, True]])  # True = padding
y, weights = mha(x, x, x, key_padding_mask=pad, need_weights=True, average_attn_weights=False)
r = torch.randn_like(y)
(r * y).sum().backward()
cases["attention"] = {
    "x": t(x), "padding": t(pad.float()), "r": t(r), "y": t(y), "weights": t(weights), "dx": t(x.grad),
    "params": {"qkv.weight": t(mha.in_proj_weight), "qkv.bias": t(mha.in_proj_bias),
               "output.weight": t(mha.out_proj.weight), "output.bias": t(mha.out_proj.bias)},
    "grads": {"qkv.weight": t(mha.in_proj_weight.grad), "qkv.bias": t(mha.in_proj_bias.grad),
              "output.weight": t(mha.out_proj.weight.grad), "output.bias": t(mha.out_proj.bias.grad)},
}


# --- Transformer blocks, both placements (written from the formulas in TransformerBlock.swift) ----
def block_case(placement):
    torch.manual_seed(1 if placement == "postLN" else 2)
    F_ = 16
    mha = torch.nn.MultiheadAttention(D, H, batch_first=True)
    ln1, ln2 = torch.nn.LayerNorm(D), torch.nn.LayerNorm(D)
    fc1, fc2 = torch.nn.Linear(D, F_), torch.nn.Linear(F_, D)
    with torch.no_grad():  # non-trivial norms
        for ln in (ln1, ln2):
            ln.weight.add_(0.1 * torch.randn(D))
            ln.bias.add_(0.1 * torch.randn(D))
    x = leaf(B, T, D)

    def attend(h):
        return mha(h, h, h, key_padding_mask=pad, need_weights=False)[0]

    if placement == "postLN":
        a = attend(x)
        h = ln1(x + a)
        f = fc2(F.gelu(fc1(h)))
        out = ln2(h + f)
    else:
        a = attend(ln1(x))
        h = x + a
        f = fc2(F.gelu(fc1(ln2(h))))
        out = h + f
    r = torch.randn_like(out)
    (r * out).sum().backward()
    modules = {"attention.qkv.weight": mha.in_proj_weight, "attention.qkv.bias": mha.in_proj_bias,
               "attention.output.weight": mha.out_proj.weight, "attention.output.bias": mha.out_proj.bias,
               "attentionNorm.weight": ln1.weight, "attentionNorm.bias": ln1.bias,
               "fc1.weight": fc1.weight, "fc1.bias": fc1.bias, "fc2.weight": fc2.weight, "fc2.bias": fc2.bias,
               "feedForwardNorm.weight": ln2.weight, "feedForwardNorm.bias": ln2.bias}
    return {"x": t(x), "padding": t(pad.float()), "r": t(r), "ffn": F_,
            "selfAttention": t(a), "feedForward": t(f), "feedForwardAndResidual": t(h + f), "output": t(out), "dx": t(x.grad),
            "params": {k: t(v) for k, v in modules.items()}, "grads": {k: t(v.grad) for k, v in modules.items()}}


cases["block_postLN"] = block_case("postLN")
cases["block_preLN"] = block_case("preLN")

# --- Conv1d: stride 2, padding 1, 2 groups, with bias ------------------------------------------------
torch.manual_seed(7)
conv = torch.nn.Conv1d(4, 6, kernel_size=3, stride=2, padding=1, groups=2)
x = leaf(2, 4, 9)
y = conv(x)
r = torch.randn_like(y)
(r * y).sum().backward()
cases["conv1d"] = {"x": t(x), "weight": t(conv.weight), "bias": t(conv.bias), "r": t(r), "y": t(y),
                   "dx": t(x.grad), "dweight": t(conv.weight.grad), "dbias": t(conv.bias.grad)}

# --- Embedding: a lookup with repeated ids (their gradients add up) ----------------------------------
torch.manual_seed(8)
embedding = torch.nn.Embedding(7, 5)
ids = torch.tensor([[3, 1, 3], [0, 6, 3]])
y = embedding(ids)
r = torch.randn_like(y)
(r * y).sum().backward()
cases["embedding"] = {"ids": ids.reshape(-1).tolist(), "weight": t(embedding.weight), "r": t(r), "y": t(y),
                      "dweight": t(embedding.weight.grad)}

# --- Dropout (p = 0.3): PyTorch's convention, checked through the mask it drew ------------------------
torch.manual_seed(9)
x = leaf(4, 50)
y = F.dropout(x, p=0.3, training=True)
r = torch.randn_like(y)
(r * y).sum().backward()
cases["dropout"] = {"x": t(x), "y": t(y), "r": t(r), "dx": t(x.grad), "p": 0.3}

# --- AdamW: two steps on one tensor, lr 0.1, weight decay 0.05, default betas and eps -------------
p = torch.randn(5, requires_grad=True)
start = p.detach().clone()
opt = torch.optim.AdamW([p], lr=0.1, weight_decay=0.05)
grads = [torch.randn(5), torch.randn(5)]
after = []
for g in grads:
    p.grad = g.clone()
    opt.step()
    after.append(p.detach().clone())
cases["adamw"] = {"start": t(start), "grad1": t(grads[0]), "grad2": t(grads[1]), "after1": t(after[0]), "after2": t(after[1]),
                  "lr": 0.1, "weight_decay": 0.05}

# --- Smooth L1 (beta 2, mean) -----------------------------------------------------------------------
a, b = leaf(4, 3, scale=3.0), torch.randn(4, 3) * 3
loss = F.smooth_l1_loss(a, b, beta=2.0)
loss.backward()
cases["smooth_l1"] = {"prediction": t(a), "target": t(b), "loss": float(loss.detach()), "dprediction": t(a.grad), "beta": 2.0}

# --- data2vec targets: top K = 2 of 3 blocks, computed as fairseq's data2vec_audio.py / data2vec_text.py do
torch.manual_seed(5)
layers = [torch.randn(2, 5, 4) * (i + 1) + i for i in range(3)]  # [B, T, C] block outputs of different scales
top = layers[-2:]
# speech: instance norm over time per layer (F.instance_norm on [B, C, T]), average, no final norm
speech = sum(F.instance_norm(tl.transpose(1, 2).float()).transpose(1, 2) for tl in top) / len(top)
# vision/text: layer norm over channels per layer, average, then (vision) a final layer norm
text = sum(F.layer_norm(tl.float(), tl.shape[-1:]) for tl in top) / len(top)
vision = F.layer_norm(text, text.shape[-1:])
cases["targets"] = {"layers": [t(x) for x in layers], "instance_norm_average": t(speech),
                    "layer_norm_average": t(text), "layer_norm_average_layer_norm": t(vision)}

# --- data2vec loss: per-position sum over channels, mean over positions, times a scale -------------
torch.manual_seed(6)
prediction, target = (torch.randn(6, 4) * 3).requires_grad_(True), torch.randn(6, 4) * 3
l2 = F.mse_loss(prediction, target, reduction="none").sum(dim=-1).mean() / 4 ** 0.5  # beta 0, scale 1/sqrt(D)
smooth = F.smooth_l1_loss(prediction, target, reduction="none", beta=4.0).sum(dim=-1).mean() * 1.0  # text
cases["data2vec_loss"] = {"prediction": t(prediction), "target": t(target), "l2_scaled": float(l2.detach()),
                          "smooth_l1_beta4": float(smooth.detach())}

# --- Attention restricted to a window (data2vec's target-context ablation): query i sees keys |i - j| <= 1,
# as an additive float attn_mask of -1e9 outside the band, with sample 2's last key padded (float mask too).
torch.manual_seed(10)
T5 = 5
mha = torch.nn.MultiheadAttention(D, H, batch_first=True)
x = leaf(B, T5, D)
band = torch.tensor([[0.0 if abs(i - j) <= 1 else -1e9 for j in range(T5)] for i in range(T5)])
pad5 = torch.tensor([[0.0] * T5, [0.0] * (T5 - 1) + [float("-inf")]])
y, weights = mha(x, x, x, key_padding_mask=pad5, attn_mask=band, need_weights=True, average_attn_weights=False)
r = torch.randn_like(y)
(r * y).sum().backward()
cases["local_attention"] = {
    "x": t(x), "padding": t((pad5 != 0).float()), "bias": t(band), "r": t(r), "y": t(y), "weights": t(weights), "dx": t(x.grad),
    "params": {"qkv.weight": t(mha.in_proj_weight), "qkv.bias": t(mha.in_proj_bias),
               "output.weight": t(mha.out_proj.weight), "output.bias": t(mha.out_proj.bias)},
    "grads": {"qkv.weight": t(mha.in_proj_weight.grad), "qkv.bias": t(mha.in_proj_bias.grad),
              "output.weight": t(mha.out_proj.weight.grad), "output.bias": t(mha.out_proj.bias.grad)},
}

out = pathlib.Path(__file__).with_name("fixtures.json")
out.write_text(json.dumps({"torch_version": torch.__version__, "cases": cases}, indent=0))
print(f"wrote {out} with {len(cases)} cases (torch {torch.__version__})")
