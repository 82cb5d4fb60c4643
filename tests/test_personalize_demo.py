"""tools/personalize_demo.py's sensor scenario end to end through the CLI, on
the real BasicMotions recordings: per rotated placement, the personalised
model (5 windows per class) beats the generic CNN, and gives the same
predictions on onnxruntime and the native backend. The image scenarios
(EfficientNet-Lite0 on MNIST and lfw_subset) take minutes and run by hand,
not in CI."""
import os
import sys

import pytest

pytest.importorskip("aeon", reason="needs the sensor-demo extra (aeon)")
pytest.importorskip("torch", reason="needs torch to train the base CNN")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import personalize_demo  # noqa: E402


@pytest.mark.slow
def test_sensor_scenario_personalised_beats_generic_on_every_rotation(tmp_path):
    rows = personalize_demo.sensor_scenario(str(tmp_path))
    assert [r[0] for r in rows] == list(personalize_demo.ROTATIONS)
    for placement, generic, knn, personal, same_on_native, windows in rows:
        assert windows == 80
        assert same_on_native, placement
        # the bar, on every placement: 95 % at 5 windows per class, above the generic CNN
        assert personal[0] >= 0.95 and personal[0] > generic, (placement, generic, personal)
    assert (tmp_path / "sensor" / "basic_motions.onnx").exists()
