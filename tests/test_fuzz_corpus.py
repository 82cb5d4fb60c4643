"""Every fuzz harness in tests/fuzz replays its committed seed corpus on the
normal build: a harness that rots, or a seed that now fails with anything but
its documented clean error, fails here before the fuzz job runs."""
import importlib
import os
import sys

import pytest

FUZZ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz")
sys.path.insert(0, FUZZ)
HARNESSES = ["preprocess", "filter2d", "conv2d", "metadata", "native_loader"]


def corpus_files(name):
    folder = os.path.join(FUZZ, "corpus", name)
    return sorted(os.path.join(folder, f) for f in os.listdir(folder))


@pytest.mark.parametrize("name", HARNESSES)
def test_seed_corpus_runs_clean(name):
    harness = importlib.import_module(f"fuzz_{name}")
    files = corpus_files(name)
    assert files, f"tests/fuzz/corpus/{name} holds no seeds"
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        try:
            harness.one_input(data)
        except harness.CLEAN_ERRORS:
            pass


def test_every_harness_is_replayed():
    on_disk = sorted(f[len("fuzz_"):-len(".py")] for f in os.listdir(FUZZ)
                     if f.startswith("fuzz_") and f.endswith(".py"))
    assert on_disk == sorted(HARNESSES)
    assert sorted(os.listdir(os.path.join(FUZZ, "corpus"))) == sorted(HARNESSES)
