import os

# before any test imports TensorFlow: no C++ start-up chatter, no oneDNN reordering
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# the native plan cache of the models tests make goes in a folder of this run, not ~/.cache
os.environ.setdefault("EDGEINFER_CACHE_DIR", __import__("tempfile").mkdtemp(prefix="edgeinfer-"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=600, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
# the sanitizer job (make sanitize) runs the kernel tests ~3x slower: fewer examples
settings.register_profile("sanitize", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# -- models and media for the runtime tests, built once per session -------------------------

MEDIA_SIZE = (160, 120)   # sample clip frames, width x height: small keeps the suite fast
FRAMES_PER_PHOTO = 12


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    """A seeded photo classifier (cat / coffee) fitted on views of the bundled
    photos, a short clip panning across them, and what each clip frame shows."""
    from tools import sample_clip, tiny_models

    root = tmp_path_factory.mktemp("media")
    views = {"cat": [f for f, _ in sample_clip.clip_frames(MEDIA_SIZE, 8, ["chelsea"])],
             "coffee": [f for f, _ in sample_clip.clip_frames(MEDIA_SIZE, 8, ["coffee"])]}
    model = tiny_models.save(tiny_models.photo_classifier(views), root / "photo.onnx")
    clip = str(root / "clip.mp4")
    shown = sample_clip.write_clip(clip, MEDIA_SIZE, FRAMES_PER_PHOTO, fps=15.0)
    truth = {"chelsea": "cat", "coffee": "coffee"}
    return {"root": root, "model": model, "clip": clip,
            "clip_labels": [truth[name] for name in shown], "truth": truth}


@pytest.fixture(scope="session")
def digits_base(tmp_path_factory):
    """learn_data's digits 0-4 base model (an MLP trained here, ~10 s), built once."""
    from learn_data import write_base_model

    return write_base_model(str(tmp_path_factory.mktemp("digits-base") / "base.onnx"))


@pytest.fixture
def broker(tmp_path):
    """A real Mosquitto broker on a free loopback port (tests/mqtt_broker.py),
    stopped after the test; the test skips, naming why, without Mosquitto."""
    from mqtt_broker import Broker, need_mosquitto

    need_mosquitto()
    broker = Broker(tmp_path / "broker").start()
    yield broker
    broker.stop()


@pytest.fixture
def cli(capsys):
    """Runs `edgeinfer ARGS...` in-process: (exit code, stdout, stderr)."""
    from edgeinfer.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def assert_one_line_error(code, err, *words):
    """A foreseeable failure: exit 2 and one `edgeinfer ...:` line naming the problem."""
    lines = [line for line in err.splitlines() if line.startswith("edgeinfer ")]
    assert code == 2
    assert "Traceback" not in err
    assert lines and all(w.lower() in lines[-1].lower() for w in words), err
