"""Whole models on the native backend: the same numbers as onnxruntime, the
load-time work really done (folding, fusion, one arena), nothing allocated
per run, and a clear refusal at load for what it cannot run."""
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgeinfer.native import NativeBackend, NativeModelError

from tools.small_cnns import MODELS, image_input, mobile_cnn, output

TOLERANCE = 1e-4    # the issue asks for 1e-3 on logits; these small nets do far better


def input_for(model, batch=1, seed=0):
    dims = model.graph.input[0].type.tensor_type.shape.dim
    shape = [d.dim_value if d.HasField("dim_value") else batch for d in dims]
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def onnxruntime_outputs(model, feed):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feed)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_matches_onnxruntime(name):
    model = MODELS[name]()
    feed = {model.graph.input[0].name: input_for(model)}
    want = onnxruntime_outputs(model, feed)
    got = NativeBackend(model).run(feed)
    assert [g.shape for g in got] == [w.shape for w in want]
    for g, w in zip(got, want):
        assert np.max(np.abs(g - w)) <= TOLERANCE
        assert np.array_equal(np.argmax(g, axis=-1), np.argmax(w, axis=-1))


def test_free_batch_axis_is_planned_per_batch_size():
    model = mobile_cnn(batch=None)
    backend = NativeBackend(model)
    for batch in (1, 3, 1):
        feed = {"image": input_for(model, batch=batch, seed=batch)}
        got = backend.run(feed)[0]
        want = onnxruntime_outputs(model, feed)[0]
        assert got.shape == (batch, 10)
        assert np.max(np.abs(got - want)) <= TOLERANCE


def test_input_of_another_shape_is_refused_after_runs_of_the_planned_one():
    """Runs of the last run's shapes skip the shape check; another shape
    still meets it, and the planned shape runs again after the refusal."""
    model = mobile_cnn()
    backend = NativeBackend(model)
    feed = {"image": input_for(model)}
    first = backend.run(feed)[0]
    backend.run(feed)
    wrong = {"image": np.zeros(feed["image"].shape[:-1] + (feed["image"].shape[-1] + 1,),
                               np.float32)}
    with pytest.raises(NativeModelError, match="input 'image' takes shape"):
        backend.run(wrong)
    np.testing.assert_array_equal(backend.run(feed)[0], first)


def steps(backend):
    return backend.plan_summary()["operators"]


def test_legacy_same_padding_chain_is_folded_into_the_convs():
    model = MODELS["legacy_same_padding_cnn"]()
    ops_in_file = {n.op_type for n in model.graph.node}
    assert {"Shape", "Gather", "ConstantOfShape", "Pad", "BatchNormalization"} <= ops_in_file
    ran = steps(NativeBackend(model))
    assert ran == {"Conv+clamp": 2, "ReduceMean": 1, "MatMul": 1}


def test_batchnorm_and_activations_are_fused_into_convs():
    ran = steps(NativeBackend(mobile_cnn()))
    assert "BatchNormalization" not in ran and "Relu" not in ran and "Clip" not in ran
    assert ran["Conv+clamp"] == 3


def residual_blocks(seed=4, size=13):
    """Residual Adds the rewrite folds into convs' writes: an inverted
    residual (Add of the block input and a linear 1x1 projection on an odd
    map: whole tiles and the dot-product tail), a ResNet v1 block (3x3 conv,
    Add, then Relu: the clamp comes after the residual), and a shortcut conv
    computed before the branch it is added to (mini-Xception: the conv has to
    move to the Add). Plus an Add of two run-time tensors no conv produced,
    which stays an Add, and a depthwise conv's Add, which stays one too."""
    from tools.small_cnns import Builder

    b = Builder(seed)
    x = b.node("Relu", [b.conv("image", 3, 40, 3, 1, [1, 1, 1, 1])])
    x = b.node("Add", [x, b.conv(b.node("Relu", [b.conv(x, 40, 96, 1)]), 96, 40, 1)])
    x = b.node("Relu", [b.node("Add", [b.conv(x, 40, 40, 3, 1, [1, 1, 1, 1]), x])])
    shortcut = b.conv(x, 40, 48, 1, 2)
    branch = b.node("MaxPool", [b.conv(x, 40, 48, 3, 1, [1, 1, 1, 1])], kernel_shape=[3, 3],
                    strides=[2, 2], pads=[1, 1, 1, 1])
    x = b.node("Add", [branch, shortcut])
    x = b.node("Add", [x, b.node("Sigmoid", [x])])
    x = b.node("Add", [b.conv(x, 48, 48, 3, 1, [1, 1, 1, 1], groups=48), x])
    b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    return b.model([image_input((1, 3, size, size))], [output(b.nodes[-1].output[0])])


def test_residual_adds_are_done_in_the_convs_output_writes():
    model = residual_blocks()
    feed = {"image": input_for(model)}
    backend = NativeBackend(model)
    got, want = backend.run(feed)[0], onnxruntime_outputs(model, feed)[0]
    assert np.max(np.abs(got - want)) <= TOLERANCE
    ran = steps(backend)
    assert ran["Conv+residual"] == 2 and ran["Conv+residual+clamp"] == 1
    assert ran["Add"] == 2      # x + sigmoid(x), and the depthwise conv's


def test_transpose_round_trips_vanish():
    model = MODELS["keras_style_cnn"]()
    in_file = sum(n.op_type == "Transpose" for n in model.graph.node)
    assert steps(NativeBackend(model))["Transpose"] == in_file - 2


def test_arena_reuses_memory_across_layers():
    backend = NativeBackend(mobile_cnn(size=64))
    plan = next(iter(backend._plans.values()))
    written = sum(plan.buffers[name].nbytes for node, _ in plan.calls for name in node.outputs)
    assert plan.arena_bytes < written / 2


def test_run_allocates_only_its_outputs():
    model = mobile_cnn(size=64)
    backend = NativeBackend(model)
    feed = {"image": input_for(model)}
    backend.run(feed)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        outputs = backend.run(feed)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    first_activation = 16 * 32 * 32 * 4     # the smallest of the big intermediate tensors
    assert peak < sum(o.nbytes for o in outputs) + 16 * 1024 < first_activation


def test_unsupported_operator_is_named_at_load():
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Erf", ["r"], ["e"]),
             helper.make_node("GridSample", ["e", "e"], ["y"])]
    graph = helper.make_graph(nodes, "g", [image_input((1, 3, 4, 4), "x")], [output("y", 4)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
    with pytest.raises(NativeModelError) as error:
        NativeBackend(model)
    assert "Erf, GridSample" in str(error.value)
    assert "use --backend onnxruntime" in str(error.value)


def test_unsupported_attribute_is_refused_at_load_not_mid_run():
    nodes = [helper.make_node("MaxPool", ["x"], ["y", "indices"], kernel_shape=[2, 2])]
    graph = helper.make_graph(nodes, "g", [image_input((1, 1, 4, 4), "x")],
                              [output("y", 4), helper.make_tensor_value_info(
                                  "indices", TensorProto.INT64, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(NativeModelError, match="Indices.*use --backend onnxruntime"):
        NativeBackend(model)


def test_runs_where_onnxruntime_cannot_be_imported(tmp_path):
    model_path = tmp_path / "mobile.onnx"
    onnx.save(mobile_cnn(), str(model_path))
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(textwrap.dedent("""
        import sys

        class NoOnnxruntime:
            def find_spec(self, name, path=None, target=None):
                if name == "onnxruntime" or name.startswith("onnxruntime."):
                    raise ImportError("onnxruntime is blocked in this process")
                return None

        sys.meta_path.insert(0, NoOnnxruntime())
    """))
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        try:
            import onnxruntime
            sys.exit("onnxruntime imported despite the blocker")
        except ImportError:
            pass
        from edgeinfer.native import NativeBackend
        backend = NativeBackend({str(model_path)!r})
        x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
        scores = backend.run({{"image": x}})[0]
        assert scores.shape == (1, 10) and abs(float(scores.sum()) - 1.0) < 1e-5
        import edgeinfer
        model = edgeinfer.load({str(model_path)!r})     # backend "auto"
        assert model.backend.name == "native", model.backend.name
        heavy = sorted(m for m in ("onnxruntime", "torch", "tensorflow") if m in sys.modules)
        assert not heavy, heavy
        print("native ok")
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(blocker)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "native ok" in result.stdout


def test_profile_accounts_for_every_step():
    model = mobile_cnn()
    backend = NativeBackend(model)
    feed = {"image": input_for(model)}
    outputs, rows = backend.run(feed, profile=True)
    np.testing.assert_array_equal(outputs[0], backend.run(feed)[0])
    assert len(rows) == backend.plan_summary()["steps"]
    kinds = {kind for kind, _, _ in rows}
    assert {"Conv 3x3 depthwise", "Conv 1x1", "MaxPool", "Softmax"} <= kinds
    assert all(ms >= 0 for _, _, ms in rows)
