#!/usr/bin/env python3
"""Makes the fixtures of Tests/InteropTests: small Hugging Face Data2Vec models with random weights (made from
their config classes; nothing is downloaded), each saved with save_pretrained, and beside it the inputs and every
block's output as transformers computes them (reference.safetensors). `swift test` imports each model into the
Swift backbone and compares, and checks the exporter's names and shapes against these files, without Python.

    python3 scripts/hf/make_fixtures.py        (from the repository root; scripts/hf/requirements.txt)
"""
from pathlib import Path

import torch
from safetensors.torch import save_file
import math

from transformers import (Data2VecAudioConfig, Data2VecAudioModel, Data2VecTextConfig, Data2VecTextModel, Data2VecVisionConfig,
                          Data2VecVisionModel)

ROOT = Path(__file__).resolve().parents[2] / "Tests" / "InteropTests" / "Fixtures"


def randomize(model, seed):
    """Every parameter moved off its initialization (LayerNorms away from 1 and 0), so a mix-up shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.2 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


def save(model, name, inputs, reference):
    folder = ROOT / name
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    save_file({k: v.contiguous().float() for k, v in reference.items()}, str(folder / "reference.safetensors"))
    print(f"{folder}: {sum(p.numel() for p in model.parameters())} parameters, inputs {[tuple(v.shape) for v in inputs.values()]}")


def text():
    torch.manual_seed(1)
    config = Data2VecTextConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                                max_position_embeddings=20, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
                                eos_token_id=2)
    model = randomize(Data2VecTextModel(config, add_pooling_layer=False), 2)
    # Two sentences, the second padded with token 1: <s> ... </s>.
    ids = torch.tensor([[0, 5, 17, 33, 8, 21, 2], [0, 12, 39, 2, 1, 1, 1]])
    mask = (ids != 1).long()
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
    reference = {"input_ids": ids, "attention_mask": mask, "valid_positions": mask}
    reference.update({f"block.{i}": h for i, h in enumerate(hidden[1:])})
    save(model, "text", {"input_ids": ids}, reference)


def audio():
    torch.manual_seed(3)
    config = Data2VecAudioConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                                 conv_dim=(8, 8), conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=2,
                                 conv_pos_kernel_size=5, num_conv_pos_embedding_groups=2, layer_norm_eps=1e-5)
    model = randomize(Data2VecAudioModel(config), 4)
    values = torch.randn(1, 400)
    with torch.no_grad():
        hidden = model(input_values=values, output_hidden_states=True).hidden_states
    reference = {"input_values": values}
    reference.update({f"block.{i}": h for i, h in enumerate(hidden[1:])})
    save(model, "audio", {"input_values": values}, reference)


def sine_cosine_positions(grid, dimension):
    """The Swift vision front end's fixed positions (sinusoidalPositions2D): per patch, sin then cos of the row, then of
    the column, at dimension / 4 frequencies 1 / 10000^(i / (dimension / 4))."""
    quarter = dimension // 4
    rows = []
    for row in range(grid):
        for column in range(grid):
            values = []
            for position in (row, column):
                frequencies = [1 / 10000 ** (i / quarter) for i in range(quarter)]
                values += [math.sin(position * f) for f in frequencies] + [math.cos(position * f) for f in frequencies]
            rows.append(values)
    return torch.tensor(rows)


def vision():
    torch.manual_seed(5)
    config = Data2VecVisionConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, image_size=28,
                                  patch_size=4, num_channels=1, use_mask_token=True, use_absolute_position_embeddings=True,
                                  use_relative_position_bias=False, use_shared_relative_position_bias=False, layer_scale_init_value=0.1,
                                  use_mean_pooling=False, layer_norm_eps=1e-6)
    model = randomize(Data2VecVisionModel(config, add_pooling_layer=False), 6)
    with torch.no_grad():  # the Swift positions are fixed: the table holds them, and zeros for the CLS token
        model.embeddings.position_embeddings.copy_(torch.cat([torch.zeros(1, 16), sine_cosine_positions(7, 16)]).unsqueeze(0))
    pixels = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        hidden = model(pixel_values=pixels, output_hidden_states=True).hidden_states
    reference = {"pixel_values": pixels}
    reference.update({f"block.{i}": h for i, h in enumerate(hidden[1:])})
    save(model, "vision", {"pixel_values": pixels}, reference)


if __name__ == "__main__":
    text()
    audio()
    vision()
