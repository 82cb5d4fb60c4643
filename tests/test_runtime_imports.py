"""The runtime installs on a Pi without TensorFlow or PyTorch: importing
edgeinfer, reading a model's metadata, running it, and every CLI command's
module must not pull either in. A start must be quick too: `import onnx`
alone costs over a second (ml_dtypes), so neither `import edgeinfer` nor a
run on either backend may import it; `import edgeinfer` itself loads only the
package root."""
import json
import os
import subprocess
import sys
import textwrap

import onnx
import pytest

from edgeinfer.metadata import ImageInput, ModelInfo, write_info
from test_convert_metadata import tiny_image_model


def test_runtime_path_imports_no_framework(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(write_info(tiny_image_model(), ModelInfo(labels=list("abc"), input_name="input",
                                                       image=ImageInput(size=(8, 8)))), str(path))
    script = textwrap.dedent(f"""
        import sys
        import onnx, onnxruntime
        import edgeinfer, edgeinfer.cli, edgeinfer.convert
        from edgeinfer.metadata import read_info
        from edgeinfer.media import read_image, SAMPLE_IMAGE
        info = read_info(onnx.load({str(path)!r}))
        x = edgeinfer.preprocess(read_image(SAMPLE_IMAGE), **info.image.preprocess_kwargs())
        onnxruntime.InferenceSession({str(path)!r}).run(None, {{info.input_name: x}})
        edgeinfer.cli.build_parser()
        assert edgeinfer.cli.main(["inspect", {str(path)!r}]) == 0
        heavy = sorted(m for m in ("tensorflow", "torch", "keras", "tf2onnx", "ray")
                       if m in sys.modules)
        print("HEAVY", heavy)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout


def test_missing_framework_gives_install_advice(monkeypatch):
    import importlib

    import pytest

    from edgeinfer.convert import frameworks
    from edgeinfer.errors import UserError

    real_import_module = importlib.import_module

    def without_torch(name, *args):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import_module(name, *args)

    monkeypatch.setattr(frameworks.importlib, "import_module", without_torch)
    with pytest.raises(UserError, match=r"pip install '\.\[convert\]'"):
        frameworks.torch()


# over a second each to import on a small board, and not needed to run a model
HEAVY = ("tensorflow", "torch", "keras", "tf2onnx", "onnx", "ml_dtypes", "onnxscript", "scipy")


def heavy_modules_after(script, env=None):
    """The HEAVY modules present once `script` has run in a fresh interpreter."""
    probe = script + f"\nimport sys, json\nprint(json.dumps(sorted(m for m in {HEAVY!r} " \
                     "if m in sys.modules)))\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_edgeinfer_pulls_in_no_heavy_module():
    assert heavy_modules_after("import edgeinfer") == []


def test_import_edgeinfer_loads_only_the_package_root():
    """The root is lazy: a script that imports edgeinfer pays for what it uses
    (not numpy, not the compiled core, not the learn side) until it uses it."""
    script = textwrap.dedent("""
        import json, sys
        import edgeinfer
        print(json.dumps(sorted(m for m in sys.modules if m == "numpy" or
                                m.startswith(("edgeinfer", "onnxruntime", "cv2")))))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["edgeinfer", "edgeinfer.version"]


def test_every_public_name_resolves_and_is_listed():
    import edgeinfer

    for name in edgeinfer.__all__:
        assert name in dir(edgeinfer)
        assert getattr(edgeinfer, name) is not None
    from edgeinfer import load, personalize, reference   # noqa: F401 - the import is the test
    assert edgeinfer.reference.conv2d is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        edgeinfer.nothing


@pytest.fixture
def image_model(tmp_path):
    from tools import tiny_models

    return str(tiny_models.save(tiny_models.random_classifier(["cat", "dog"], size=(16, 16)),
                                tmp_path / "m.onnx"))


def test_onnxruntime_load_predict_and_run_import_no_onnx(image_model):
    script = textwrap.dedent(f"""
        import edgeinfer, edgeinfer.cli
        from edgeinfer.media import SAMPLE_IMAGE, read_image
        model = edgeinfer.load({image_model!r}, backend="onnxruntime")
        assert len(model.predict(read_image(SAMPLE_IMAGE))) == 2
        assert edgeinfer.cli.main(["run", "--model", {image_model!r}, "--image", SAMPLE_IMAGE,
                                   "--backend", "onnxruntime", "--quiet"]) == 0
    """)
    assert heavy_modules_after(script) == []


def test_native_start_imports_no_onnx_with_or_without_the_plan_cache(image_model, tmp_path):
    script = textwrap.dedent(f"""
        import os
        import edgeinfer
        from edgeinfer.media import SAMPLE_IMAGE, read_image
        edgeinfer.load({image_model!r}, backend="native").predict(read_image(SAMPLE_IMAGE))
        print(len(os.listdir(os.path.join(os.environ["EDGEINFER_CACHE_DIR"], "plans"))))
    """)
    cache = {"EDGEINFER_CACHE_DIR": str(tmp_path / "cache")}
    assert heavy_modules_after(script, cache) == []     # cold: reads the graph from the file
    assert heavy_modules_after(script, cache) == []     # warm: reads the cached plan
    assert len(os.listdir(tmp_path / "cache" / "plans")) == 1


def test_native_cli_run_imports_no_onnx(image_model, tmp_path):
    script = textwrap.dedent(f"""
        from edgeinfer.cli import main
        from edgeinfer.media import SAMPLE_IMAGE
        assert main(["run", "--model", {image_model!r}, "--image", SAMPLE_IMAGE,
                     "--backend", "native", "--quiet"]) == 0
    """)
    assert heavy_modules_after(script, {"EDGEINFER_PLAN_CACHE": "0"}) == []


def test_native_load_does_not_import_onnxruntime(image_model):
    """Asked for by name, the native backend is the only one checked: checking
    onnxruntime's availability imports it, a tenth of a second here."""
    script = textwrap.dedent(f"""
        import sys
        import edgeinfer
        edgeinfer.load({image_model!r}, backend="native")
        assert "onnxruntime" not in sys.modules
    """)
    heavy_modules_after(script)


def test_local_eval_and_run_never_import_ray(tmp_path):
    """Ray is an optional extra for --ray; a local eval or run must not load it."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        from learn_data import digits, write_base_model, write_class_folders
        from edgeinfer.cli import main
        images, labels = digits()
        base = write_base_model({str(tmp_path / "base.onnx")!r})
        data = write_class_folders({str(tmp_path / "test")!r}, images[:40], labels[:40] % 2)
        assert main(["eval", base, "--data", data]) == 0
        assert main(["run", "--model", base, "--image", data + "/0", "--quiet"]) == 0
        print("RAY", "ray" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "RAY False" in result.stdout, result.stdout


def test_onnx_imports_after_an_onnxruntime_load(image_model):
    """The memory pre-check loads onnx's compiled extension without the onnx package; it
    registered it under a short name, and a later `import onnx` in the same process failed
    ("'onnx.onnx_cpp2py_export' is not a package") — in a Ray actor, in a user's script."""
    script = textwrap.dedent(f"""
        import edgeinfer
        edgeinfer.load({image_model!r}, backend="onnxruntime")
        import onnx
        onnx.checker.check_model(onnx.load({image_model!r}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_run_and_the_cli_never_import_the_web_server(image_model):
    """starlette and uvicorn (edgeinfer[serve]) are for `serve` alone: building the
    CLI, which imports every command's module, and a run must not load them."""
    script = textwrap.dedent(f"""
        import sys
        import edgeinfer.cli
        from edgeinfer.media import SAMPLE_IMAGE
        edgeinfer.cli.build_parser()
        assert edgeinfer.cli.main(["run", "--model", {image_model!r}, "--image", SAMPLE_IMAGE,
                                   "--quiet"]) == 0
        print("WEB", sorted(m for m in ("starlette", "uvicorn", "multipart",
                                        "python_multipart", "edgeinfer.serve")
                            if m in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "WEB []" in result.stdout, result.stdout


def test_run_without_mqtt_never_imports_paho(image_model):
    """paho-mqtt is the optional `mqtt` extra: only --mqtt loads it."""
    script = textwrap.dedent(f"""
        import sys
        from edgeinfer.cli import main
        from edgeinfer.media import SAMPLE_IMAGE
        assert main(["run", "--model", {image_model!r}, "--image", SAMPLE_IMAGE, "--quiet"]) == 0
        print("PAHO", sorted(m for m in sys.modules
                             if m.split(".")[0] == "paho" or m == "edgeinfer.sinks.mqtt"))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "PAHO []" in result.stdout, result.stdout


def test_a_run_imports_no_other_command_nor_learn(image_model):
    """The CLI builds the invoked command's parser alone: `run` used to import every
    command's module, and with them learn/ (collect, personalize), on its start."""
    script = textwrap.dedent(f"""
        import sys
        from edgeinfer.cli import main
        from edgeinfer.media import SAMPLE_IMAGE
        assert main(["run", "--model", {image_model!r}, "--image", SAMPLE_IMAGE, "--quiet"]) == 0
        print("EXTRA", sorted(m for m in sys.modules if m.startswith(("edgeinfer.learn",
              "edgeinfer.commands.personalize", "edgeinfer.commands.collect",
              "edgeinfer.commands.eval", "edgeinfer.commands.serve", "edgeinfer.convert"))))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "EXTRA []" in result.stdout, result.stdout
