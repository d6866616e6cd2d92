#!/usr/bin/env python3
"""Checks a model exported by a chapter (--export-hf DIR) against the Swift run that wrote it.

    python3 scripts/hf/check.py DIR

DIR holds config.json and model.safetensors (the Hugging Face model) and swift_outputs.safetensors (the inputs
the Swift run fed its model and every block's output). The script loads the model with transformers'
AutoModel (Data2VecTextModel, Data2VecAudioModel or Data2VecVisionModel, from config.json), feeds it the same
inputs, and compares each block's output (hidden_states[i + 1]) with the Swift one at every valid position.
It prints the largest difference per block and exits with status 1 if any exceeds 1e-4. For text, the
sentences the Swift run tokenized are tokenized again by transformers' RobertaTokenizer from the exported
vocab.json and merges.txt, and the token ids must be the same.
"""
import json
import sys
from pathlib import Path

TOLERANCE = 1e-4


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    directory = Path(argv[1])
    for name in ["config.json", "model.safetensors", "swift_outputs.safetensors"]:
        if not (directory / name).is_file():
            sys.exit(f"{directory / name}: no such file. Make the directory with a chapter's --export-hf DIR.")
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import AutoModel

    config = json.loads((directory / "config.json").read_text())
    swift = load_file(str(directory / "swift_outputs.safetensors"))
    kwargs = {"add_pooling_layer": False} if config["model_type"] in ("data2vec-text", "data2vec-vision") else {}
    model = AutoModel.from_pretrained(str(directory), **kwargs).eval()
    print(f"{type(model).__name__} from {directory}: {sum(p.numel() for p in model.parameters())} parameters")

    with safe_open(str(directory / "swift_outputs.safetensors"), "pt") as f:
        metadata = f.metadata() or {}
    sentences = [metadata[k] for k in sorted(k for k in metadata if k.startswith("sentence."))]
    if sentences:
        from transformers import RobertaTokenizer
        tokenizer = RobertaTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"))
        for i, sentence in enumerate(sentences):
            length = int(swift["attention_mask"][i].sum().item())
            ours = swift["input_ids"][i][:length].round().long().tolist()
            theirs = tokenizer(sentence, truncation=True, max_length=length)["input_ids"]
            if ours != theirs:
                sys.exit(f"sentence {i}: the Swift tokenizer gave {ours}, RobertaTokenizer {theirs}")
        print(f"  tokenizer: RobertaTokenizer from vocab.json and merges.txt gives the Swift ids for {len(sentences)} sentences")

    inputs = {}
    if "input_ids" in swift:
        inputs["input_ids"] = swift["input_ids"].round().long()
        inputs["attention_mask"] = swift["attention_mask"].round().long()
    elif "input_values" in swift:
        inputs["input_values"] = swift["input_values"]
    elif "pixel_values" in swift:
        inputs["pixel_values"] = swift["pixel_values"]
    else:
        sys.exit("swift_outputs.safetensors holds no input_ids, input_values or pixel_values")
    with torch.no_grad():
        hidden = model(**inputs, output_hidden_states=True).hidden_states
    valid = swift.get("valid_positions")  # [B, T] 1 where a position is not padding
    blocks = sorted(int(k.split(".")[1]) for k in swift if k.startswith("block."))
    worst = 0.0
    for i in blocks:
        ours, theirs = swift[f"block.{i}"], hidden[i + 1]
        if ours.shape != theirs.shape:
            sys.exit(f"block {i + 1}: Swift output {tuple(ours.shape)}, transformers {tuple(theirs.shape)}")
        difference = (ours - theirs).abs()
        if valid is not None:
            difference = difference * valid.unsqueeze(-1)
        largest = difference.max().item()
        worst = max(worst, largest)
        print(f"  block {i + 1}: largest difference {largest:.2e} over {ours.shape[0]} x {ours.shape[1]} positions")
    verdict = "within" if worst <= TOLERANCE else "ABOVE"
    print(f"largest difference {worst:.2e}: {verdict} the tolerance {TOLERANCE:g}")
    sys.exit(0 if worst <= TOLERANCE else 1)


if __name__ == "__main__":
    main(sys.argv)
