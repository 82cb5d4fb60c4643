"""The native backend's plan cache: a second load of the same file builds its
plan from the cache (same numbers), a changed file or edgeinfer version makes
a new entry, a damaged entry is ignored and rewritten, and it can be off."""
import os

import numpy as np
import pytest

from edgeinfer.native import NativeBackend, plan_cache
from tools import tiny_models


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("EDGEINFER_CACHE_DIR", str(folder))
    monkeypatch.delenv("EDGEINFER_PLAN_CACHE", raising=False)
    return folder / "plans"


def model_file(tmp_path, seed=0, batch=1):
    return str(tiny_models.save(tiny_models.random_classifier(["a", "b", "c"], size=(16, 16),
                                                              seed=seed, batch=batch),
                                tmp_path / f"m{seed}.onnx"))


def entries(folder):
    return sorted(os.listdir(folder)) if folder.exists() else []


def scores(backend, batch=1):
    x = np.random.default_rng(7).random((batch, 3, 16, 16), dtype=np.float32)
    return backend.run({backend.input_names[0]: x})[0]


def test_second_load_reads_the_plan_from_the_cache_with_the_same_scores(tmp_path, cache):
    path = model_file(tmp_path)
    first = NativeBackend(path)
    assert len(entries(cache)) == 1 and first._graph is not None
    second = NativeBackend(path)
    assert second._graph is None   # planned from the cache: the file's graph was never read
    np.testing.assert_array_equal(scores(second), scores(first))


def test_cached_backend_plans_another_batch_size_from_the_file(tmp_path, cache):
    path = model_file(tmp_path, batch="N")
    NativeBackend(path)
    cached = NativeBackend(path)
    np.testing.assert_allclose(scores(cached, batch=3), scores(NativeBackend(path), batch=3),
                               rtol=1e-6)


def test_a_changed_model_file_gets_its_own_entry(tmp_path, cache):
    NativeBackend(model_file(tmp_path, seed=0))
    NativeBackend(model_file(tmp_path, seed=1))
    assert len(entries(cache)) == 2


def test_a_new_edgeinfer_version_does_not_read_an_old_entry(tmp_path, cache, monkeypatch):
    path = model_file(tmp_path)
    NativeBackend(path)
    monkeypatch.setattr(plan_cache, "__version__", "99.0")
    assert NativeBackend(path)._graph is not None
    assert len(entries(cache)) == 2


def test_a_changed_planner_source_does_not_read_an_old_entry(tmp_path, cache, monkeypatch):
    path = model_file(tmp_path)
    NativeBackend(path)
    monkeypatch.setattr(plan_cache, "planner_fingerprint", lambda: "another planner")
    assert NativeBackend(path)._graph is not None
    assert len(entries(cache)) == 2


def test_a_plan_made_at_another_simd_level_is_not_read(tmp_path, cache):
    """The int8 layout follows the vector unit: a plan made at one level was read
    back at another and kept the first one's layout."""
    from edgeinfer.core.loader import core
    from simd_levels import available_levels, forced_simd

    path = model_file(tmp_path)
    NativeBackend(path)
    others = [level for level in available_levels() if level != core.simd_active()]
    if not others:
        pytest.skip("this CPU runs one SIMD level only")
    with forced_simd(others[0]):
        assert NativeBackend(path)._graph is not None
    assert len(entries(cache)) == 2


def test_planner_fingerprint_follows_the_planner_source():
    plan_cache.planner_fingerprint.cache_clear()
    first = plan_cache.planner_fingerprint()
    assert first == plan_cache.planner_fingerprint() and len(first) == 32
    # the empty-input hash would mean no source was read: the key would not follow edits
    import hashlib
    assert first != hashlib.blake2b(digest_size=16).hexdigest()


@pytest.mark.parametrize("damage", [b"", b"edgeinfer plan\n not really a plan", None, "flip"])
def test_damaged_cache_entry_is_ignored_and_rebuilt(tmp_path, cache, damage):
    path = model_file(tmp_path)
    want = scores(NativeBackend(path))
    [name] = entries(cache)
    entry = cache / name
    data = entry.read_bytes()
    if damage == "flip":    # one bit of a weight: the CRC notices what no bounds check could
        entry.write_bytes(data[:-100] + bytes([data[-100] ^ 1]) + data[-99:])
    else:
        entry.write_bytes(data[: len(data) // 2] if damage is None else damage)
    rebuilt = NativeBackend(path)
    assert rebuilt._graph is not None
    np.testing.assert_array_equal(scores(rebuilt), want)
    assert entry.read_bytes() == data           # written again, whole
    assert NativeBackend(path)._graph is None


def test_cached_arrays_are_writable_for_the_kernels(tmp_path, cache):
    path = model_file(tmp_path)
    NativeBackend(path)
    cached = plan_cache.load(plan_cache.entry_path(open(path, "rb").read()))
    assert cached["constants"] and all(a.flags.writeable for a in cached["constants"].values())


def test_entry_is_written_atomically_leaving_no_temporary_file(tmp_path, cache):
    NativeBackend(model_file(tmp_path))
    assert all(name.endswith(".plan") for name in entries(cache))


def test_plan_cache_off_writes_and_reads_nothing(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("EDGEINFER_PLAN_CACHE", "0")
    path = model_file(tmp_path)
    NativeBackend(path)
    assert NativeBackend(path)._graph is not None and entries(cache) == []


def test_unwritable_cache_folder_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("EDGEINFER_CACHE_DIR", str(blocker))
    assert scores(NativeBackend(model_file(tmp_path))).shape == (1, 3)


def test_cache_folder_defaults_under_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("EDGEINFER_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert plan_cache.cache_dir() == str(tmp_path / "edgeinfer" / "plans")
