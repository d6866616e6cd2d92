#!/usr/bin/env bash
# Exports the model each chapter pretrains as a Hugging Face Data2Vec model and checks it with transformers:
# chapter 05 with a CLS token (--class-token; Data2VecVisionModel always has one), chapter 06 with the waveform
# front end (Data2VecAudioModel has no log-mel one), chapter 07 as it is (Data2VecTextModel, with the tokenizer).
#   from the repository root, after `swift build -c release`, with a Python that has scripts/hf/requirements.txt:
#   PYTHON=/path/to/venv/bin/python scripts/record.sh hf-check bash scripts/hf/check-chapters.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
out=.build/hf-export
mkdir -p "$out"
echo "### chapter 05: --pretrain-only --class-token --export-hf $out/vision"
.build/release/ch05-vision --pretrain-only --class-token --export-hf "$out/vision" --checkpoint "$out/ch05-class-token.safetensors" \
    --figures-dir "$out/figures" | grep -E "Exported|done in"
echo "### chapter 06: --front-end waveform --one-front-end --pretrain-only --export-hf $out/audio"
.build/release/ch06-speech --front-end waveform --one-front-end --pretrain-only --export-hf "$out/audio" \
    --checkpoint "$out/ch06-waveform.safetensors" --figures-dir "$out/figures" | grep -E "Exported|done in"
echo "### chapter 07: --export-hf $out/text"
.build/release/ch07-text --export-hf "$out/text" --checkpoint-folder "$out/ch07" --figures-dir "$out/figures" | grep -E "Exported|done in"
for model in vision audio text; do
    echo "### python3 scripts/hf/check.py $out/$model"
    "$PYTHON" scripts/hf/check.py "$out/$model" 2>&1 | grep -vE "^Loading weights|Warning"
done
