# data2vec, from scratch, in Swift.
#   make chapters   run every chapter in order (release build), writing figures/
#   make test       build and pass the tests
#   make bench      the benchmark executables
#   make quick      every chapter with --quick (what CI runs)
# Each target first installs what a fresh Debian/Ubuntu machine lacks (see `make deps`).

SWIFT    ?= swift
# Every chapter folder chapters/NN-slug is an executable chNN-slug, run in the folders' order.
CHAPTERS := $(patsubst chapters/%,ch%,$(sort $(wildcard chapters/[0-9]*)))

.PHONY: deps chapters quick test bench list

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

bench: deps
	$(SWIFT) build -c release --product bench-mlp
	$(SWIFT) build -c release --product bench-data2vec
	.build/release/bench-mlp
	.build/release/bench-data2vec --python $(PYTHON)

list:
	@echo $(CHAPTERS)
