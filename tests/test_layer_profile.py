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
