# data2vec, from scratch, in Swift.
#   make chapters   run every chapter in order (release build), writing figures/
#   make test       build and pass the tests
#   make bench      the benchmark executables
#   make quick      every chapter with --quick (what CI runs)
#   make pretrained the long pretraining runs whose checkpoints are committed under pretrained/ (about two hours)
#   make hf-check   export each chapter's model to Hugging Face's layout and check it with transformers
#                   (PYTHON: a Python with scripts/hf/requirements.txt; about 15 minutes)
# Each target first installs what a fresh Debian/Ubuntu machine lacks (see `make deps`).

SWIFT    ?= swift
# Every chapter folder chapters/NN-slug is an executable chNN-slug, run in the folders' order.
CHAPTERS := $(patsubst chapters/%,ch%,$(sort $(wildcard chapters/[0-9]*)))

.PHONY: deps chapters quick test bench list pretrained hf-check

# OpenBLAS (matrix products) and gnuplot (figures), from apt, with sudo when not root.
deps:
	@missing=""; \
	if command -v dpkg >/dev/null 2>&1; then \
	  dpkg -s libopenblas-dev >/dev/null 2>&1 || missing="$$missing libopenblas-dev"; \
	  command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	  command -v gnuplot >/dev/null 2>&1 || missing="$$missing gnuplot-nox"; \
	  if [ -n "$$missing" ]; then \
	    echo "make deps: installing$$missing (apt-get)"; \
	    if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null \
	      || { echo "make deps: apt-get failed; install$$missing yourself"; exit 1; }; \
	  else echo "make deps: libopenblas-dev, pkg-config and gnuplot are present"; fi; \
	else \
	  echo "make deps: not a Debian/Ubuntu system; install OpenBLAS, pkg-config and gnuplot yourself (macOS: brew install openblas pkg-config gnuplot)"; \
	fi

chapters: deps
	$(SWIFT) build -c release
	@set -e; for c in $(CHAPTERS); do echo; echo ">>> $$c"; .build/release/$$c; done

quick: deps
	$(SWIFT) build -c release
	@set -e; for c in $(CHAPTERS); do echo; echo ">>> $$c --quick"; .build/release/$$c --quick; done

test: deps
	$(SWIFT) test

# PYTHON: a Python with PyTorch, for the side-by-side run (skipped with a note when it cannot import torch).
PYTHON   ?= python3

hf-check: deps
	$(SWIFT) build -c release
	PYTHON=$(PYTHON) scripts/record.sh hf-check bash scripts/hf/check-chapters.sh

bench: deps
	$(SWIFT) build -c release --product bench-mlp
	$(SWIFT) build -c release --product bench-data2vec
	.build/release/bench-mlp
	.build/release/bench-data2vec --python $(PYTHON)

# Chapter 05's long pretraining: three seeds of 20,000 steps (128 epochs of the 10,000 training images), each
# saving copies after 2,500, 5,000 and 10,000 steps for the compute curve. Logs in results/pretrained/.
# Chapter 06's: complete runs of 1,200 (the chapter's own length), 2,400 and 8,000 steps with the log-mel
# front end, three seeds each, on one thread each (about 40 minutes on 2 cores); and three 1,200-step runs that
# never heard the speaker theo, for `--test-speakers theo`.
# Chapter 07's: data2vec and the masked LM side by side, one per core, 16,000 steps of 64 blocks of 64 tokens
# (about 40 minutes on 2 cores), with copies after 2,000, 4,000 and 8,000 steps for the compute curve; and the
# same pair pretrained with seed 1 (another 40 minutes), which the chapter is run on a second time.
pretrained: deps
	$(SWIFT) build -c release --product ch05-vision
	$(SWIFT) build -c release --product ch06-speech
	$(SWIFT) build -c release --product ch07-text
	@set -e; for seed in 0 1 2; do \
	  scripts/record.sh pretrained/ch05-vision-seed$$seed .build/release/ch05-vision --pretrain-only --seed $$seed \
	    --pretrain-steps 20000 --snapshot-steps 2500 5000 10000 --checkpoint pretrained/ch05-vision/seed$$seed.safetensors \
	    --figures-dir .build/pretrained-figures; \
	done
	@set -e; for steps in 1200 2400 8000; do for seed in 0 1 2; do \
	  scripts/record.sh pretrained/ch06-speech-logmel-steps$$steps-seed$$seed .build/release/ch06-speech --pretrain-only \
	    --front-end logmel --seed $$seed --threads 1 --pretrain-steps $$steps \
	    --checkpoint pretrained/ch06-speech-logmel/steps$$steps-seed$$seed.safetensors --figures-dir .build/pretrained-figures; \
	done; done
	@set -e; for seed in 0 1 2; do \
	  scripts/record.sh pretrained/ch06-speech-logmel-without-theo-steps1200-seed$$seed .build/release/ch06-speech --pretrain-only \
	    --front-end logmel --test-speakers theo --seed $$seed --threads 1 --pretrain-steps 1200 \
	    --checkpoint pretrained/ch06-speech-logmel-without-theo/steps1200-seed$$seed.safetensors --figures-dir .build/pretrained-figures; \
	done
	scripts/record.sh pretrained/ch07-text .build/release/ch07-text --pretrain-only --pretrain-steps 16000 \
	  --snapshot-steps 2000 4000 8000 --checkpoint-folder pretrained/ch07-text --figures-dir .build/pretrained-figures
	rm -f pretrained/ch07-text/corpus_valid.txt.ids
	cp .build/pretrained-figures/07-pretraining.png figures/07-pretraining.png
	scripts/record.sh pretrained/ch07-text-seed1 .build/release/ch07-text --pretrain-only --seed 1 --pretrain-steps 16000 \
	  --checkpoint-folder pretrained/ch07-text-seed1 --figures-dir .build/pretrained-figures-seed1
	rm -f pretrained/ch07-text-seed1/corpus_valid.txt.ids
