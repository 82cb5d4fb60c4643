"""Memory bombs: a tiny model file that asks for gigabytes is refused by both
backends, with one line naming the node and the size, before anything is
allocated. The limit is EDGEINFER_MAX_MEMORY or a fraction of physical memory."""
import resource

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeinfer
from edgeinfer import backends, memory_limit
from edgeinfer.errors import ModelError, UserError
from tools import tiny_models

BACKENDS = ["native", "onnxruntime"]


def bomb_model(op="ConstantOfShape"):
    """x + sum(a 20000x20000x4 float tensor made from a few numbers): 1 KB on disk, 6.4 GB folded."""
    numbers = {"shape": np.array([20000, 20000, 4], np.int64), "one": np.ones((1, 1, 1), np.float32),
               "repeats": np.array([20000, 20000, 4], np.int64)}
    make = {"ConstantOfShape": helper.make_node(
                "ConstantOfShape", ["shape"], ["big"], name="bomb",
                value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
            "Expand": helper.make_node("Expand", ["one", "shape"], ["big"], name="bomb"),
            "Tile": helper.make_node("Tile", ["one", "repeats"], ["big"], name="bomb")}[op]
    nodes = [make, helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0),
             helper.make_node("Add", ["x", "total"], ["y"])]
    graph = helper.make_graph(nodes, "bomb", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                            [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
                              [numpy_helper.from_array(v, k) for k, v in numbers.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


@pytest.fixture
def small_address_space():
    """Address space capped near what the process holds: an allocation of gigabytes
    fails at once instead of paging the test machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize("op", ["ConstantOfShape", "Expand", "Tile"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_memory_bomb_is_refused_before_allocating(tmp_path, monkeypatch, backend, op):
    path = tmp_path / "bomb.onnx"
    onnx.save(bomb_model(op), str(path))
    assert path.stat().st_size < 1024
    monkeypatch.setenv("EDGEINFER_MAX_MEMORY", "256M")
    with pytest.raises(ModelError) as error:
        backends.open_backend(str(path), backend)
    message = str(error.value)
    assert "\n" not in message
    assert "'bomb'" in message and op in message and "6.0 GB" in message
    assert "EDGEINFER_MAX_MEMORY=256M" in message


@pytest.mark.parametrize("backend", BACKENDS)
def test_default_limit_is_a_fraction_of_physical_memory(tmp_path, monkeypatch, backend):
    """No EDGEINFER_MAX_MEMORY: the limit a quarter of physical memory, said in the message."""
    path = tmp_path / "bomb.onnx"
    onnx.save(bomb_model(), str(path))
    monkeypatch.delenv("EDGEINFER_MAX_MEMORY", raising=False)
    total = memory_limit.physical_memory()
    monkeypatch.setattr(memory_limit, "MEMORY_FRACTION", min(1.0, 1e9 / total))
    with pytest.raises(ModelError, match="of this machine's"):
        edgeinfer.load(path, backend=backend)


def test_native_never_allocates_the_bomb(tmp_path, monkeypatch, small_address_space):
    """The check comes first: with 2 GB of address space left, a 6.4 GB request would
    fail as MemoryError, not as the one-line refusal."""
    path = tmp_path / "bomb.onnx"
    onnx.save(bomb_model(), str(path))
    monkeypatch.setenv("EDGEINFER_MAX_MEMORY", "1G")
    with open("/proc/self/statm") as f:
        held = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (held + 2 ** 31, resource.getrlimit(
        resource.RLIMIT_AS)[1]))
    with pytest.raises(ModelError, match="'bomb'"):
        backends.open_backend(str(path), "native")


@pytest.mark.parametrize("backend", BACKENDS)
def test_large_activations_count_against_the_limit(tmp_path, monkeypatch, backend):
    """An ordinary classifier at a large declared input size: its activations
    exceed a small limit, and the error names a node."""
    path = tiny_models.save(tiny_models.random_classifier(["a", "b"], size=(512, 512), batch=1,
                                                             features=32),
                            tmp_path / "m.onnx")
    monkeypatch.setenv("EDGEINFER_MAX_MEMORY", "4M")
    with pytest.raises(ModelError, match=r"node '.*' .* needs .* MB, more than the 4.0 MB"):
        edgeinfer.load(path, backend=backend)
    monkeypatch.setenv("EDGEINFER_MAX_MEMORY", "512M")
    model = edgeinfer.load(path, backend=backend)
    assert len(model.predict(np.zeros((64, 64, 3), np.uint8))) == 2


@pytest.mark.parametrize("text, expected", [("1048576", 2 ** 20), ("512M", 512 * 2 ** 20),
                                            ("2G", 2 * 2 ** 30), ("1.5GiB", 3 * 2 ** 29),
                                            ("64k", 64 * 1024), ("3 GB", 3 * 2 ** 30)])
def test_max_memory_accepts_suffixes(monkeypatch, text, expected):
    monkeypatch.setenv("EDGEINFER_MAX_MEMORY", text)
    assert memory_limit.max_memory()[0] == expected


def test_a_max_memory_that_is_not_a_size_is_one_line(tmp_path, monkeypatch, cli):
    from conftest import assert_one_line_error

    path = tiny_models.save(tiny_models.random_classifier(["a", "b"]), tmp_path / "m.onnx")
    monkeypatch.setenv("EDGEINFER_MAX_MEMORY", "lots")
    with pytest.raises(UserError, match="EDGEINFER_MAX_MEMORY='lots' is not a size"):
        edgeinfer.load(path, backend="native")
    code, _, err = cli("run", "--model", path, "--image", path)
    assert_one_line_error(code, err, "EDGEINFER_MAX_MEMORY")


def test_inspect_says_why_a_memory_bomb_cannot_run(tmp_path, monkeypatch, cli):
    path = tmp_path / "bomb.onnx"
    onnx.save(bomb_model(), str(path))
    monkeypatch.setenv("EDGEINFER_MAX_MEMORY", "1G")
    code, out, _ = cli("inspect", path)
    assert code == 0
    verdicts = [line for line in out.splitlines() if line.startswith("backend")]
    assert len(verdicts) == 2
    assert all("no (" in line and "'bomb'" in line and "6.0 GB" in line for line in verdicts)
