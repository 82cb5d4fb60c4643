import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=600, deadline=None,
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
