"""--device / --provider: names people use mapped to the execution providers
this onnxruntime build has (CPU here, and a made-up list for the others),
refused in one line naming the ones there are, and reported in the run's
header and run.json."""
import json
import os

import onnxruntime
import pytest

from edgeinfer import load
from edgeinfer.backends.devices import provider_for, session_providers, short_name
from edgeinfer.errors import ModelError
from edgeinfer.media import DATA_DIR
from test_run_cli import assert_one_line_error, run

GPU_BUILD = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
PHOTO = os.path.join(DATA_DIR, "chelsea.jpg")


@pytest.mark.parametrize("device, provider", [
    ("cuda", "CUDAExecutionProvider"), ("TensorRT", "TensorrtExecutionProvider"),
    ("CUDAExecutionProvider", "CUDAExecutionProvider"), ("gpu", "CUDAExecutionProvider"),
    ("cpu", "CPUExecutionProvider")])
def test_device_names_map_to_the_providers_of_a_gpu_build(device, provider):
    assert provider_for(device, GPU_BUILD) == provider


def test_a_device_the_build_lacks_is_refused_naming_the_ones_it_has():
    with pytest.raises(ModelError) as error:
        provider_for("openvino", GPU_BUILD)
    message = str(error.value)
    assert "'openvino' is not in this onnxruntime build" in message
    assert "tensorrt (TensorrtExecutionProvider), cuda (CUDAExecutionProvider), cpu" in message


def test_a_device_keeps_the_cpu_for_the_operators_it_does_not_take():
    assert session_providers("CUDAExecutionProvider") == ["CUDAExecutionProvider",
                                                          "CPUExecutionProvider"]
    assert session_providers("CPUExecutionProvider") == ["CPUExecutionProvider"]
    assert short_name("OpenVINOExecutionProvider") == "openvino"


def test_cpu_device_runs_and_is_reported_in_the_header_and_run_json(capsys, media, tmp_path):
    code, _, err = run(capsys, "-m", media["model"], "--image", PHOTO, "--device", "cpu",
                       "--save", tmp_path)
    assert code == 0, err
    assert "onnxruntime on cpu" in err.splitlines()[0]
    model, = json.loads((tmp_path / "predict" / "run.json").read_text())["models"]
    assert (model["device"], model["provider"]) == ("cpu", "CPUExecutionProvider")
    assert load(media["model"], device="CPU").backend.provider == "CPUExecutionProvider"


def test_a_device_not_installed_is_one_line_listing_the_installed(capsys, media):
    code, _, err = run(capsys, "-m", media["model"], "--image", PHOTO, "--provider", "cuda")
    installed = onnxruntime.get_available_providers()
    assert_one_line_error(code, err, "device 'cuda' is not in this onnxruntime build",
                          *(f"{short_name(p)} ({p})" for p in installed))


def test_a_listed_device_that_does_not_start_is_refused_not_run_on_the_cpu(capsys, media,
                                                                           monkeypatch):
    # onnxruntime falls back to the CPU without a word when a provider cannot start
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: GPU_BUILD)
    code, _, err = run(capsys, "-m", media["model"], "--image", PHOTO, "--device", "cuda")
    assert_one_line_error(code, err, "could not start CUDAExecutionProvider", "--device")


def test_a_device_with_the_native_backend_is_refused(capsys, media):
    code, _, err = run(capsys, "-m", media["model"], "--image", PHOTO, "--device", "cuda",
                       "--backend", "native")
    assert_one_line_error(code, err, "--device cuda", "native backend runs on the CPU")


def test_the_native_backend_reports_its_default_thread_count_as_a_number(media):
    """The threads a run really takes: the default, or fewer for a model with
    too little work to share (native/work.py)."""
    from edgeinfer.core.runtime import default_threads
    from edgeinfer.native.work import threads_for

    model = load(media["model"], backend="native")
    work = model.backend.engine.threads_used and \
        next(iter(model.backend.engine._plans.values())).multiply_adds
    assert model.backend.thread_count == threads_for(work, default_threads()) >= 1
    assert load(media["model"], backend="native", threads=1).backend.thread_count == 1


def test_the_run_header_names_onnxruntimes_default_thread_count_not_default_threads(capsys,
                                                                                     media):
    """It said "default threads": onnxruntime's default is a thread per physical core."""
    from edgeinfer.backends.devices import physical_cores
    from edgeinfer.run.run_stats import counted

    code, _, err = run(capsys, "-m", media["model"], "--image", PHOTO)
    assert code == 0, err
    assert f"onnxruntime on cpu, {counted(physical_cores(), 'thread')})" in err.splitlines()[0]


def test_the_run_header_names_the_native_default_thread_count(capsys, media):
    """It was `def` (bench) or null: the count the core really runs with (one
    for this small model, whatever the cores: native/work.py)."""
    from edgeinfer.run.run_stats import counted

    really = load(media["model"], backend="native").backend.thread_count
    code, _, err = run(capsys, "-m", media["model"], "--image", PHOTO, "--backend", "native")
    assert code == 0, err
    assert f"native on cpu, {counted(really, 'thread')})" in err.splitlines()[0]
