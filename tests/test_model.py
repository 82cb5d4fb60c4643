"""edgeinfer.load / Model: metadata drives preprocessing, softmax only for logits,
batching, models without metadata, and one-line errors for bad model files."""
import logging

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

import edgeinfer
from edgeinfer import backends, reference
from edgeinfer.errors import ModelError
from edgeinfer.media import SAMPLE_IMAGE
from edgeinfer.metadata import FORMAT_VERSION, METADATA_KEY
from edgeinfer.run.postprocess import softmax
from tools import tiny_models

LABELS = ["ant", "bee", "cow", "dog", "eel"]


@pytest.fixture
def photo():
    return cv2.imread(SAMPLE_IMAGE)


def save(model, tmp_path, name="m.onnx"):
    return tiny_models.save(model, tmp_path / name)


def ort_scores(path, tensor):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: tensor})[0]


def test_predict_follows_the_metadata(tmp_path, photo):
    """Top-k equals what the numpy reference preprocessing (with the metadata's
    settings), onnxruntime and a softmax give, computed independently."""
    crop = dict(crop=0.875, resize="area", mean=(120.0, 110.0, 100.0), std=(60.0, 55.0, 50.0))
    path = save(tiny_models.random_classifier(LABELS, size=(40, 48), seed=3, **crop), tmp_path)
    model = edgeinfer.load(path)
    kwargs = model.info.image.preprocess_kwargs()
    assert kwargs["crop"] == 0.875 and kwargs["size"] == (40, 48)

    expected = softmax(ort_scores(path, reference.preprocess(photo, **kwargs)))[0]
    got = model.predict(photo, top_k=5)
    assert [p.index for p in got] == list(np.argsort(-expected))
    assert [p.label for p in got] == [LABELS[i] for i in np.argsort(-expected)]
    np.testing.assert_allclose([p.score for p in got], np.sort(expected)[::-1], atol=2e-3)
    assert len(model.predict(photo, top_k=2)) == 2


def test_probability_outputs_are_not_softmaxed_again(tmp_path, photo):
    path = save(tiny_models.random_classifier(LABELS, output="probabilities"), tmp_path)
    model = edgeinfer.load(path)
    raw = model.run(model.prepare(photo))[0]
    assert raw.sum() == pytest.approx(1.0, abs=1e-5)
    scores = {p.index: p.score for p in model.predict(photo, top_k=5)}
    np.testing.assert_allclose([scores[i] for i in range(5)], raw, atol=1e-6)


@pytest.mark.parametrize("color", ["rgb", "bgr"])
def test_colour_order_comes_from_the_metadata(tmp_path, color):
    """The model scores each input channel's brightness; whichever order its
    metadata asks for, a red frame must come out red and a blue one blue."""
    model = edgeinfer.load(save(tiny_models.channel_means(color=color), tmp_path))
    red, blue = np.zeros((10, 12, 3), np.uint8), np.zeros((10, 12, 3), np.uint8)
    red[..., 2] = 255   # BGR frames, as OpenCV delivers
    blue[..., 0] = 255
    assert model.predict(red, top_k=1)[0].label == "red"
    assert model.predict(blue, top_k=1)[0].label == "blue"
    assert model.predict(red[..., ::-1], top_k=1, input_color="rgb")[0].label == "red"


class CountingBackend:
    def __init__(self, inner):
        self.inner, self.calls = inner, []
        self.inputs, self.outputs, self.name = inner.inputs, inner.outputs, inner.name

    def run(self, feed):
        self.calls.append(next(iter(feed.values())).shape)
        return self.inner.run(feed)


@pytest.mark.parametrize("batch, calls", [("N", [(3, 3, 32, 32)]), (1, [(1, 3, 32, 32)] * 3)])
def test_a_list_of_frames_is_batched_when_the_model_allows(tmp_path, photo, batch, calls):
    model = edgeinfer.load(save(tiny_models.random_classifier(LABELS, batch=batch), tmp_path))
    frames = [photo, photo[::2, ::2], np.ascontiguousarray(photo[:, ::-1])]
    singles = [model.predict(f) for f in frames]
    model.backend = CountingBackend(model.backend)
    together = model.predict(frames)
    assert model.backend.calls == calls
    for one, many in zip(singles, together):
        assert [p.index for p in one] == [p.index for p in many]
        np.testing.assert_allclose([p.score for p in one], [p.score for p in many], atol=1e-5)


def test_nhwc_and_grey_models(tmp_path, photo):
    nhwc = edgeinfer.load(save(tiny_models.random_classifier(LABELS, layout="nhwc"), tmp_path))
    assert nhwc.input_shape == (1, 32, 32, 3)
    grey = edgeinfer.load(save(tiny_models.random_classifier(LABELS, color="gray"), tmp_path,
                               "g.onnx"))
    assert grey.input_shape == (1, 1, 32, 32)
    for model in (nhwc, grey):
        assert len(model.predict(photo)) == 5


def test_model_without_metadata_works_and_names_what_it_assumed(tmp_path, photo, caplog):
    path = save(tiny_models.random_classifier(LABELS, metadata=False), tmp_path)
    with caplog.at_level(logging.WARNING, logger="edgeinfer"):
        model = edgeinfer.load(path)
    warning = caplog.text
    for assumption in ("no edgeinfer metadata", "RGB", "0..1", "class 0", "logits"):
        assert assumption in warning
    assert model.info.image.size == (32, 32)  # read off the input's shape, not assumed
    assert [p.label for p in model.predict(photo)][0].startswith("class ")

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="edgeinfer"):
        model = edgeinfer.load(path, labels=LABELS, output="logits",
                               image=dict(color="bgr", mean=0, std=1, crop=0.9))
    assert "class 0" not in caplog.text and "RGB" not in caplog.text and "0..1" not in caplog.text
    assert model.predict(photo)[0].label in LABELS


def test_backend_registry_picks_an_available_backend(tmp_path):
    name, module = backends.resolve("auto")
    assert name in backends.BACKENDS and module.available()[0]
    path = save(tiny_models.random_classifier(LABELS), tmp_path)
    assert edgeinfer.load(path, backend="onnxruntime", threads=1).backend.name == "onnxruntime"
    with pytest.raises(ModelError, match="unknown backend 'tpu'"):
        edgeinfer.load(path, backend="tpu")


def one_line(error):
    text = str(error.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_missing_and_corrupt_model_files(tmp_path):
    with pytest.raises(ModelError) as error:
        edgeinfer.load(tmp_path / "nope.onnx")
    assert "does not exist" in one_line(error)

    good = save(tiny_models.random_classifier(LABELS), tmp_path)
    data = open(good, "rb").read()
    cases = {"garbage.onnx": np.random.default_rng(1).bytes(500), "empty.onnx": b"",
             "truncated.onnx": data[:len(data) // 2], "text.onnx": b"not a model\n" * 10}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ModelError) as error:
            edgeinfer.load(tmp_path / name)
        assert name in one_line(error)
    with pytest.raises(ModelError, match="not a file"):
        edgeinfer.load(tmp_path)


def test_a_newer_format_asks_for_an_upgrade(tmp_path):
    model = tiny_models.random_classifier(LABELS)
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            prop.value = prop.value.replace(f'"format_version": {FORMAT_VERSION}',
                                            f'"format_version": {FORMAT_VERSION + 1}')
    with pytest.raises(ModelError) as error:
        edgeinfer.load(save(model, tmp_path))
    assert "pip install -U edgeinfer" in one_line(error)


def test_shapes_the_model_cannot_take(tmp_path, photo):
    # metadata says 48x48 but the graph is fixed at 32x32
    model = tiny_models.random_classifier(LABELS, size=(32, 32))
    tiny_models.write_info(model, tiny_models.image_info(LABELS, (48, 48)))
    with pytest.raises(ModelError) as error:
        edgeinfer.load(save(model, tmp_path))
    assert "[?, 3, 32, 32]" in one_line(error) and "48x48" in str(error.value)

    with pytest.raises(ModelError, match="one label per class"):
        edgeinfer.load(save(tiny_models.random_classifier(LABELS), tmp_path, "l.onnx"),
                       labels=["just", "two"])

    loaded = edgeinfer.load(save(tiny_models.random_classifier(LABELS), tmp_path, "ok.onnx"))
    with pytest.raises(ModelError) as error:
        loaded.run(np.zeros((1, 3, 16, 16), np.float32))
    assert "(1, 3, 16, 16)" in one_line(error)


def test_a_sensor_shaped_input_is_not_taken_for_an_image(tmp_path):
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 128])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 128])])
    path = str(tmp_path / "s.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    with pytest.raises(ModelError) as error:
        edgeinfer.load(path)
    assert "not an image" in one_line(error)


def test_prepare_reuses_the_callers_buffer(tmp_path, photo):
    model = edgeinfer.load(save(tiny_models.random_classifier(LABELS), tmp_path))
    buffer = model.new_input()
    assert model.prepare(photo, out=buffer) is buffer
