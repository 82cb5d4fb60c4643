"""The run loop as a library: typed items from every source, any sink with
write(item, result) (a network sink here, over real UDP), the backend's thread
count left to the backend, models that cannot share a source refused."""
import json
import socket

import numpy as np
import pytest

import edgeinfer
from edgeinfer.core.runtime import get_num_threads, set_num_threads
from edgeinfer.run.classifier import Classifier
from edgeinfer.run.pipeline import Pipeline
from edgeinfer.sensor.stream import open_sensor_windows
from edgeinfer.sensor.window import SensorWindow
from edgeinfer.sources import Frame, open_video
from tools import tiny_models

CHANNELS = ("ax", "ay", "az")


class UdpSink:
    """A network sink: a datagram per result, as a live page's feed would get."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.address = address
        self.items = []

    def write(self, item, result):
        self.items.append(type(item))
        if result is not None:
            self.sock.sendto(json.dumps(result.to_dict()).encode(), self.address)
        return True

    def close(self):
        self.sock.close()


class ThreadCountSink:
    """Notes the core's thread count whenever the run hands it a result."""

    def __init__(self):
        self.seen = set()

    def write(self, item, result):
        self.seen.add(get_num_threads())
        return True

    def close(self):
        pass


@pytest.fixture
def sensor_stream(tmp_path):
    model = tiny_models.save(tiny_models.sensor_channel_means(CHANNELS, window=4, hop=4),
                             tmp_path / "imu.onnx")
    rows = ["ax,ay,az"] + ["9,0,0"] * 4 + ["0,0,9"] * 4
    stream = tmp_path / "s.csv"
    stream.write_text("\n".join(rows) + "\n")
    return model, str(stream)


def test_sensor_windows_arrive_as_sensor_windows_not_frames(sensor_stream):
    # Frame.image, documented as a BGR image, used to carry the float windows
    model_path, stream = sensor_stream
    model = edgeinfer.load(model_path, backend="native")
    source = open_sensor_windows(stream, model.info.sensor)
    items = []
    while not source.finished:
        item = source.read(timeout=1.0)
        if item is not None:
            items.append(item)
    source.close()
    assert [type(item) for item in items] == [SensorWindow, SensorWindow]
    assert items[1].samples.dtype == np.float32 and items[1].samples.shape == (4, 3)
    np.testing.assert_array_equal(items[1].samples, [[0, 0, 9]] * 4)
    assert not hasattr(items[0], "image")


def test_a_network_sink_is_added_without_touching_the_pipeline(media):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5.0)
    sink = UdpSink(receiver.getsockname())
    model = edgeinfer.load(media["model"], backend="native", threads=1)
    stats = Pipeline(open_video(media["clip"]), [Classifier(model)], [sink], every=2).run()
    frames = len(media["clip_labels"])
    assert stats.classified == (frames + 1) // 2
    # every frame reaches the sink; only the classified ones carry a result
    assert sink.items == [Frame] * frames
    records = [json.loads(receiver.recv(65536)) for _ in range(stats.classified)]
    receiver.close()
    assert [r["frame"] for r in records] == list(range(0, frames, 2))
    assert [r["label"] for r in records] == media["clip_labels"][::2]


@pytest.mark.parametrize("backend", ["native", "onnxruntime"])
def test_a_run_leaves_the_core_thread_count_to_the_backend(media, backend):
    # the pipeline used to set the core to one thread for the whole run, under the
    # backend and every sink; only a frame's preprocessing is pinned now
    if not edgeinfer.backends.availability()[backend][0]:
        pytest.skip(f"{backend} is not installed")
    before = get_num_threads()
    set_num_threads(2)
    try:
        sink = ThreadCountSink()
        model = edgeinfer.load(media["model"], backend=backend)
        Pipeline(open_video(media["clip"]), [Classifier(model)], [sink], max_frames=3).run()
        assert sink.seen == {2}
        assert get_num_threads() == 2
    finally:
        set_num_threads(before)


def test_models_that_take_different_inputs_are_refused(media, sensor_stream):
    image_model = edgeinfer.load(media["model"], backend="native")
    sensor_model = edgeinfer.load(sensor_stream[0], backend="native")
    source = open_video(media["clip"])
    try:
        with pytest.raises(ValueError, match="different inputs"):
            Pipeline(source, [Classifier(image_model), Classifier(sensor_model)])
    finally:
        source.close()
