# One command sets up and runs each job: a virtual environment in .venv, the
# compiled core, the dependencies. Nothing to do by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= test,convert,demo
# this release lies on the machine's disk as a CPU build; left free, pip could
# pick a newer one and download gigabytes of CUDA libraries
TORCH ?= torch==2.13.0
DEMO_MODEL := models/efficientnet-lite0.onnx

.PHONY: demo demo-model test build bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

build: $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH)" -e ".[$(EXTRAS)]"

# the real EfficientNet-Lite0 ImageNet classifier, converted and checked on the sample photos
$(DEMO_MODEL): tools/make_demo_model.py
	$(MAKE) build
	$(BIN)/python tools/make_demo_model.py -o $@

demo-model: $(DEMO_MODEL)

demo: build
	$(BIN)/edgeinfer preprocess

test: build
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q benchmarks --benchmark-disable

bench: build
	$(BIN)/python -m pytest benchmarks --benchmark-columns=min,median,mean,rounds --benchmark-sort=name

clean:
	rm -rf build $(VENV) *.egg-info edgeinfer/_core.c edgeinfer/_core*.so $(DEMO_MODEL)
