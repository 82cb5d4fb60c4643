"""tools/layer_profile.py: native's steps beside onnxruntime's own per-node
profile, keyed by layer shape, on a real (small, seeded) model."""
import os
import sys

import onnx
import pytest

pytest.importorskip("onnxruntime")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "tools"))
import layer_profile  # noqa: E402

from tools.small_cnns import mobile_cnn  # noqa: E402


def test_rows_pair_each_conv_shape_with_onnxruntimes_node(tmp_path):
    path = str(tmp_path / "cnn.onnx")
    onnx.save(mobile_cnn(size=32), path)
    rows = {key: (n_nodes, o_nodes, n_ms, o_ms)
            for key, n_nodes, o_nodes, n_ms, o_ms in layer_profile.table(path, runs=3)}
    # the depthwise 3x3 and the 3x3/2 conv run on both engines, once each
    for key in ("Conv dw 3x3 16>16 @16x16", "Conv 3x3/2 16>24 @8x8"):
        n_nodes, o_nodes, n_ms, o_ms = rows[key]
        assert n_nodes == 1 and o_nodes >= 1 and n_ms > 0 and o_ms > 0
    text = layer_profile.format_rows(list(layer_profile.table(path, runs=3)), markdown=True)
    assert text.splitlines()[0].startswith("| layer |") and "**all steps**" in text


def test_missing_model_is_one_line_and_status_2(tmp_path, capsys):
    assert layer_profile.main([str(tmp_path / "none.onnx")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_int8_convs_pair_with_onnxruntimes_packed_qlinearconv(tmp_path):
    """onnxruntime's QLinearConv packs its weights away (no weight shape in
    its profile) and runs channels-last; its rows still meet native's
    QuantizedConv steps under one key."""
    from test_native_int8 import quantize

    model = mobile_cnn(seed=0, size=32)
    for i, node in enumerate(model.graph.node):   # onnxruntime's events are named after nodes
        node.name = f"{node.op_type}_{i}"
    path = quantize(model, (1, 3, 32, 32), tmp_path)
    rows = {key: (n_nodes, o_nodes) for key, n_nodes, o_nodes, _, _ in
            layer_profile.table(path, runs=3)}
    n_nodes, o_nodes = rows["int8 Conv dw 3x3 16>16 @16x16"]
    assert n_nodes == 1 and o_nodes == 1


def test_threads_option_runs_both_engines_at_that_many_threads(tmp_path, monkeypatch):
    """--threads 2: onnxruntime's intra-op pool and native's core both at two
    threads while the layers are timed, the same rows as at one (the small
    model shares its work as a large one would)."""
    from edgeinfer.core.loader import core
    from edgeinfer.native import work
    from edgeinfer.native.plan import Plan

    monkeypatch.setattr(work, "MULTIPLY_ADDS_PER_THREAD", 1)

    path = str(tmp_path / "cnn.onnx")
    onnx.save(mobile_cnn(size=32), path)
    seen = {"native": set(), "ort": set()}
    real_run, real_session = Plan.run_timed, layer_profile._ort_session

    def run_recording_threads(self):
        seen["native"].add(core.get_num_threads())
        return real_run(self)

    def session_recording_threads(*args, **kwargs):
        session = real_session(*args, **kwargs)
        seen["ort"].add(session.get_session_options().intra_op_num_threads)
        return session

    monkeypatch.setattr(Plan, "run_timed", run_recording_threads)
    monkeypatch.setattr(layer_profile, "_ort_session", session_recording_threads)
    before = core.get_num_threads()
    rows = {key: n_nodes for key, n_nodes, _, _, _ in layer_profile.table(path, runs=3, threads=2)}
    assert seen == {"native": {2}, "ort": {2}}
    assert core.get_num_threads() == before    # the process's setting is left as it was
    assert rows["Conv dw 3x3 16>16 @16x16"] == 1 and rows["Conv 3x3/2 16>24 @8x8"] == 1


def test_threads_below_one_is_one_line_and_status_2(tmp_path, capsys):
    path = str(tmp_path / "cnn.onnx")
    onnx.save(mobile_cnn(size=32), path)
    assert layer_profile.main([path, "--threads", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--threads" in err and err.count("\n") == 0


def test_engines_take_turns_in_blocks_each_led_by_an_uncounted_run():
    """One thread: run by run after the warm-up; blocks of three: each engine
    one uncounted run (after the other's spinning workers) and three counted
    in a row, every engine `runs` counted however the blocks fall."""
    turns = layer_profile._turns(warmup=2, runs=3, block=1)
    assert turns == [("native", False)] * 2 + [("ort", False)] * 2 + \
        [("native", True), ("ort", True)] * 3
    blocks = layer_profile._turns(warmup=1, runs=4, block=3)
    lead = [("native", False), ("ort", False)]
    native_block = [("native", False)] + [("native", True)] * 3
    ort_block = [("ort", False)] + [("ort", True)] * 3
    assert blocks == lead + native_block + ort_block + [("native", False), ("native", True),
                                                         ("ort", False), ("ort", True)]
    for engine in ("native", "ort"):
        assert sum(c for which, c in blocks if which == engine) == 4
    assert layer_profile.default_block(1) == 1 and layer_profile.default_block(2) > 1


def test_native_on_fewer_threads_than_asked_is_said(tmp_path, capsys):
    """--threads 2 on a model too small to share: the native column is one
    thread's, and a line says so."""
    path = str(tmp_path / "cnn.onnx")
    onnx.save(mobile_cnn(size=32), path)
    assert layer_profile.main([path, "--threads", "2", "--runs", "2"]) == 0
    assert "native ran on 1 of the 2 threads asked" in capsys.readouterr().err


def test_block_below_one_is_one_line_and_status_2(tmp_path, capsys):
    path = str(tmp_path / "cnn.onnx")
    onnx.save(mobile_cnn(size=32), path)
    assert layer_profile.main([path, "--block", "0"]) == 2
    assert "--block" in capsys.readouterr().err
