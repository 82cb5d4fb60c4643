"""native/work.py: a plan's multiply-adds, and the threads a run of it may
use. A model with too little work to share between cores runs on one thread
whatever the thread count asked for; a large one on the threads asked."""
import numpy as np
import pytest

from edgeinfer.commands.model_summary import summarize
from edgeinfer.core.loader import core
from edgeinfer.native import NativeBackend, work
from edgeinfer.native.plan import Plan
from tools.small_cnns import MODELS, mobile_cnn
from test_native_int8_layout import inverted_residual_cnn


def _plan(backend):
    shape = [d or 1 for d in backend.input_shapes[0]]
    return backend._prepare({backend.input_names[0]: np.zeros(shape, np.float32)})


@pytest.mark.parametrize("name", sorted(MODELS))
def test_plan_counts_the_multiply_adds_inspect_counts(name):
    """Counted on the folded plan (fused convs, Gemm and MatMul) and by
    inspect on the model's own graph: the same number."""
    model = MODELS[name]()
    assert _plan(NativeBackend(model)).multiply_adds == summarize(model)["macs"] > 0


def test_quantized_plan_counts_the_multiply_adds_of_its_float_twin(tmp_path):
    """A QDQ model's integer steps (1x1, depthwise, dense) count as the float
    convolutions they replace."""
    pytest.importorskip("onnxruntime")
    from test_native_int8 import quantize

    model = inverted_residual_cnn()
    quantized = quantize(model, (1, 3, 24, 24), tmp_path)
    plan = _plan(NativeBackend(quantized))
    assert any(node.op == "QuantizedConv" for node in plan.nodes)
    assert plan.multiply_adds == _plan(NativeBackend(model)).multiply_adds


def test_threads_follow_the_work_one_per_share_never_past_the_threads_asked():
    share = work.MULTIPLY_ADDS_PER_THREAD
    assert work.threads_for(0, 4) == 1
    assert work.threads_for(share - 1, 4) == 1
    assert work.threads_for(2 * share, 4) == 2
    assert work.threads_for(100 * share, 4) == 4
    assert work.threads_for(100 * share, 1) == 1


@pytest.fixture
def threads_of_runs(monkeypatch):
    """The core's thread count in each plan run from here on."""
    seen = []
    real_run = Plan.run

    def run_recording_threads(self):
        seen.append(core.get_num_threads())
        return real_run(self)

    monkeypatch.setattr(Plan, "run", run_recording_threads)
    return seen


def test_small_model_runs_on_one_thread_when_two_are_asked(threads_of_runs):
    """The small CNN (4 M multiply-adds) lost 8-19 % of its speed at two
    threads: its runs set the core to one thread, and back after."""
    backend = NativeBackend(mobile_cnn(size=32), threads=2)
    before = core.get_num_threads()
    backend.run([np.zeros((1, 3, 32, 32), np.float32)])
    assert threads_of_runs == [1] and core.get_num_threads() == before


def test_model_with_work_to_share_runs_on_the_threads_asked(threads_of_runs, monkeypatch):
    monkeypatch.setattr(work, "MULTIPLY_ADDS_PER_THREAD", 1000)
    NativeBackend(mobile_cnn(size=32), threads=2).run([np.zeros((1, 3, 32, 32), np.float32)])
    assert threads_of_runs == [2]


def test_backend_reports_the_threads_a_run_really_uses(tmp_path):
    """What `run` and `bench` print as the native backend's threads: one for
    a small model asked for two."""
    import onnx

    from edgeinfer.backends.native import Backend

    path = tmp_path / "small.onnx"
    onnx.save(mobile_cnn(size=32), str(path))
    assert Backend(str(path), threads=2).thread_count == 1


def test_run_header_says_up_to_for_a_model_whose_share_waits_for_its_first_frame(tmp_path):
    """A model of free height and width is planned, and its threads shared
    out, at its first frame: the header said "2 threads" for a model that
    then ran on one. Before that frame it says "up to 2 threads"; after it,
    what the run used."""
    import onnx

    from edgeinfer import load
    from edgeinfer.commands.run import _show_engine
    from test_inspect import free_size_model

    path = tmp_path / "free.onnx"
    onnx.save(free_size_model(), str(path))
    model = load(str(path), backend="native", threads=2)
    assert not model.backend.threads_settled
    assert _show_engine(model) == "native on cpu, up to 2 threads"
    model.backend.run({model.backend.inputs[0].name: np.zeros((1, 3, 16, 16), np.float32)})
    assert model.backend.threads_settled
    assert _show_engine(model) == "native on cpu, 1 thread"


def test_gemm_with_transposed_a_counts_its_inner_size():
    """A Gemm with transA takes A as (K, M): its inner size is A's first axis
    (it counted M, the last)."""
    import onnx
    from onnx import TensorProto, helper

    a = np.ones((6, 4), np.float32)          # K=6, M=4
    b = np.ones((6, 5), np.float32)          # K=6, N=5
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["a", "b"], ["y"], transA=1)], "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, a.shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, (4, 5))],
        [onnx.numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    backend = NativeBackend(model)
    plan = backend._prepare({"a": a})
    assert plan.multiply_adds == 4 * 5 * 6 == summarize(model)["macs"]


def test_threads_asked_past_what_the_core_takes_are_what_it_takes(threads_of_runs, monkeypatch):
    """The count is capped by the core (its most threads, or one in a build
    without threads) before the plan's share is taken: a run asked for 1000
    threads reports and uses what the core runs with."""
    from edgeinfer.core.runtime import num_threads

    monkeypatch.setattr(work, "MULTIPLY_ADDS_PER_THREAD", 1)
    with num_threads(1000):
        most = core.get_num_threads()
    backend = NativeBackend(mobile_cnn(size=32), threads=1000)
    backend.run([np.zeros((1, 3, 32, 32), np.float32)])
    assert backend.threads_used == most == threads_of_runs[0] < 1000


def test_a_larger_batch_may_share_what_one_image_does_not(threads_of_runs, monkeypatch):
    """Each plan (input shape) has its own share: batch 8 is eight times the
    work of batch 1."""
    model = mobile_cnn(size=32, batch=None)
    one = _plan(NativeBackend(model)).multiply_adds
    monkeypatch.setattr(work, "MULTIPLY_ADDS_PER_THREAD", 2 * one)
    backend = NativeBackend(model, threads=2)
    backend.run([np.zeros((1, 3, 32, 32), np.float32)])
    backend.run([np.zeros((8, 3, 32, 32), np.float32)])
    assert threads_of_runs == [1, 2] and backend.threads_used == 2
