"""The three install paths of the Makefile, read from `make -n` (what each would
run on a fresh clone): `make install` is the runtime alone (no TensorFlow, no
torch) checked with `edgeinfer run` on the bundled photos, `make demo` adds
only the demo extra, `make dev` everything; pip shows its progress, and each
ends saying how to get `edgeinfer` on PATH. The timed runs on fresh clones are
in the README."""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def planned(target, tmp_path):
    """The commands `make TARGET` would run with a virtual environment not made yet."""
    venv = str(tmp_path / "venv")
    result = subprocess.run(["make", "-n", "-C", ROOT, f"VENV={venv}", target],
                            capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if not line.startswith("make")]


def pip_lines(lines):
    return [line for line in lines if " -m pip install " in line and "--upgrade pip" not in line]


def test_install_is_the_runtime_alone_checked_on_the_bundled_photos(tmp_path):
    lines = planned("install", tmp_path)
    (pip,) = pip_lines(lines)
    assert pip.endswith(" -e .")  # no extras: no TensorFlow, no torch
    assert "torch" not in pip and "--quiet" not in pip
    run = next(line for line in lines if "/edgeinfer run " in line)
    assert "chelsea.jpg" in run and "coffee.jpg" in run
    assert "activate" in lines[-1]


def test_demo_adds_only_the_demo_extra(tmp_path):
    lines = planned("demo", tmp_path)
    (pip,) = pip_lines(lines)
    assert pip.endswith('-e ".[demo]"') and "--quiet" not in pip
    assert any("make_demo_model.py" in line for line in lines)
    assert "/edgeinfer run " in lines[-2] and "activate" in lines[-1]


def test_dev_and_test_install_everything(tmp_path):
    for target in ("dev", "test"):
        lines = planned(target, tmp_path)
        (pip,) = pip_lines(lines)
        extras = pip.rsplit("[", 1)[1].rstrip(']"').split(",")
        assert {"test", "convert", "demo", "serve", "mqtt"} <= set(extras)
        assert "activate" in lines[-1]


def test_the_runtime_dependencies_hold_no_framework():
    if sys.version_info < (3, 11):
        pytest.skip("tomllib is Python 3.11+")
    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    names = {d.split(";")[0].split(">")[0].split("=")[0].strip() for d in dependencies}
    assert names == {"numpy", "onnx", "onnxruntime", "opencv-python", "tqdm"}


def test_the_install_check_model_labels_the_bundled_photos(tmp_path, capsys):
    from edgeinfer.cli import main
    from edgeinfer.media import DATA_DIR

    model = str(tmp_path / "check.onnx")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_check_model.py"), "-o",
                    model], check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=ROOT))
    out = tmp_path / "out.jsonl"
    assert main(["run", "--model", model, "--image", os.path.join(DATA_DIR, "chelsea.jpg"),
                 os.path.join(DATA_DIR, "coffee.jpg"), "--json", str(out)]) == 0
    capsys.readouterr()
    labels = [json.loads(line)["label"] for line in out.read_text().splitlines()]
    assert labels == ["cat", "coffee"]
