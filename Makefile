# One command sets up and runs each job: a virtual environment in .venv, the
# compiled core, the dependencies. Nothing to do by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= test

.PHONY: demo test build bench bench-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

build: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"

demo: build
	$(BIN)/edgeinfer preprocess

test: build
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q benchmarks --benchmark-disable

bench: build
	$(BIN)/python -m pytest benchmarks --benchmark-columns=min,median,mean,rounds --benchmark-sort=name

clean:
	rm -rf build $(VENV) *.egg-info edgeinfer/_core.c edgeinfer/_core*.so

# Fails when a kernel's speed-up over its numpy reference, measured in this
# run, drops below its floor in benchmarks/floors.json.
bench-check: build
	mkdir -p out
	$(BIN)/python -m pytest -q benchmarks --benchmark-json=out/bench.json
	$(BIN)/python tools/bench_check.py out/bench.json
	$(BIN)/python tools/bench_table.py out/bench.json
