"""--quantize int8: static QDQ quantisation calibrated on real images, with a
report that matches what the two files actually do."""
import os

import cv2
import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch")
skimage_data = pytest.importorskip("skimage.data")

from framework_models import read_metadata, run_onnx  # noqa: E402

from edgeinfer import preprocess  # noqa: E402
from edgeinfer.media import read_image  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "cat", "camera", "horse", "brick")


@pytest.fixture(scope="module")
def calibration_dir(tmp_path_factory):
    """Real photographs from scikit-image, as files a user would have."""
    folder = tmp_path_factory.mktemp("calibration")
    for name in PHOTOS:
        image = getattr(skimage_data, name)()
        if image.dtype != np.uint8:
            image = (image * 255).astype(np.uint8) if image.max() <= 1 else image.astype(np.uint8)
        if image.ndim == 3:
            image = cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(folder / f"{name}.png"), image)
    return folder


@pytest.fixture(scope="module")
def torchscript_cnn(tmp_path_factory):
    torch.manual_seed(6)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(32, 64, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(64, 64, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 10)).eval()
    path = tmp_path_factory.mktemp("cnn") / "cnn.pt"
    torch.jit.script(model).save(str(path))
    return path


def test_int8_file_and_its_report(torchscript_cnn, calibration_dir, tmp_path, cli):
    shape = ("--input-shape", "1,3,48,48", "--preprocess", "imagenet")
    float_path, int8_path = tmp_path / "float.onnx", tmp_path / "int8.onnx"
    code, _, err = cli("convert", torchscript_cnn, "-o", float_path, *shape)
    assert code == 0, err
    code, _, err = cli("convert", torchscript_cnn, "-o", int8_path, *shape,
                       "--quantize", "int8", "--calibration", calibration_dir)
    assert code == 0, err
    assert "int8:" in err

    ops = {node.op_type for node in onnx.load(str(int8_path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    info = read_metadata(str(int8_path))
    report = info.quantization
    assert report["calibration_images"] == len(PHOTOS)
    assert "int8 per-channel" in report["scheme"]
    assert report["int8_mb"] < report["float_mb"]
    assert os.path.getsize(int8_path) < os.path.getsize(float_path)
    # the stated agreement is what the two files do on the calibration images
    tensors = [preprocess(read_image(str(calibration_dir / f"{n}.png")),
                          **info.image.preprocess_kwargs()) for n in sorted(PHOTOS)]
    agree = np.mean([run_onnx(str(float_path), t).argmax() == run_onnx(str(int8_path), t).argmax()
                     for t in tensors])
    assert report["top1_agreement_with_float"] == pytest.approx(agree)
    # verification of the float model ran on the real calibration photos too
    assert info.verification["passed"] and info.verification["samples"] > 4


def test_quantize_needs_calibration(torchscript_cnn, tmp_path, cli):
    from conftest import assert_one_line_error

    code, _, err = cli("convert", torchscript_cnn, "-o", tmp_path / "q.onnx", "--quantize", "int8")
    assert_one_line_error(code, err, "--calibration")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = cli("convert", torchscript_cnn, "-o", tmp_path / "q.onnx", "--quantize", "int8",
                       "--calibration", empty)
    assert_one_line_error(code, err, "no images")
    assert not (tmp_path / "q.onnx").exists()


def _calibration_crops(folder, source_dir, count):
    """count different 64x64 crops of the real photos: enough distinct images
    to pass the calibration minimum without a large folder."""
    folder.mkdir()
    photos = [cv2.imread(str(source_dir / f"{name}.png")) for name in PHOTOS]
    for i in range(count):
        photo = photos[i % len(photos)]
        y, x = (i // len(photos)) * 40, (i // len(photos)) * 60
        cv2.imwrite(str(folder / f"crop{i:02d}.png"), photo[y:y + 64, x:x + 64])
    return folder


def test_few_calibration_images_warn_and_strict_refuses(torchscript_cnn, calibration_dir,
                                                        tmp_path, cli):
    """4 calibration images reached 75 % top-1 agreement without a word."""
    from conftest import assert_one_line_error

    from edgeinfer.convert.quantize import MIN_CALIBRATION_IMAGES

    few = tmp_path / "few"
    few.mkdir()
    for name in PHOTOS[:4]:
        (few / f"{name}.png").write_bytes((calibration_dir / f"{name}.png").read_bytes())
    args = ("--input-shape", "1,3,48,48", "--preprocess", "imagenet", "--quantize", "int8",
            "--calibration", few)
    out = tmp_path / "int8.onnx"
    code, _, err = cli("convert", torchscript_cnn, "-o", out, *args)
    assert code == 0, err
    assert f"warning: only 4 calibration images in {few} (at least {MIN_CALIBRATION_IMAGES}" in err
    assert read_metadata(str(out)).quantization["warnings"][0].startswith("only 4 calibration")

    strict = tmp_path / "strict.onnx"
    code, _, err = cli("convert", torchscript_cnn, "-o", strict, *args, "--strict")
    assert_one_line_error(code, err, "only 4 calibration images", "--strict")
    assert not strict.exists()


@pytest.fixture(scope="module")
def near_tie_cnn(tmp_path_factory):
    """A classifier whose ten scores differ by far less than one int8 step of
    their common range, so int8 rounding changes its answers."""
    torch.manual_seed(7)
    head = torch.nn.Linear(16, 10)
    with torch.no_grad():
        head.weight.copy_(torch.randn(1, 16).abs() + 1e-3 * torch.randn(10, 16))
        head.bias.zero_()
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, stride=2, padding=1), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), head).eval()
    path = tmp_path_factory.mktemp("near_tie") / "near_tie.pt"
    torch.jit.script(model).save(str(path))
    return path


def test_low_int8_agreement_warns_and_strict_refuses(near_tie_cnn, calibration_dir, tmp_path,
                                                     cli):
    from conftest import assert_one_line_error

    from edgeinfer.convert.quantize import MIN_CALIBRATION_IMAGES, MIN_TOP1_AGREEMENT

    crops = _calibration_crops(tmp_path / "crops", calibration_dir, MIN_CALIBRATION_IMAGES)
    args = ("--input-shape", "1,3,32,32", "--preprocess", "imagenet", "--quantize", "int8",
            "--calibration", crops)
    out = tmp_path / "int8.onnx"
    code, _, err = cli("convert", near_tie_cnn, "-o", out, *args)
    assert code == 0, err
    report = read_metadata(str(out)).quantization
    assert report["calibration_images"] == MIN_CALIBRATION_IMAGES
    assert report["top1_agreement_with_float"] < MIN_TOP1_AGREEMENT
    assert "calibration images in" not in err          # enough images: only the agreement warning
    assert (f"warning: int8 top-1 agrees with float on only "
            f"{report['top1_agreement_with_float']:.0%}") in err
    assert len(report["warnings"]) == 1

    strict = tmp_path / "strict.onnx"
    code, _, err = cli("convert", near_tie_cnn, "-o", strict, *args, "--strict")
    assert_one_line_error(code, err, "int8 top-1 agrees with float on only", "--strict")
    assert not strict.exists()


def test_strict_without_quantize_is_refused(torchscript_cnn, tmp_path, cli):
    from conftest import assert_one_line_error

    code, _, err = cli("convert", torchscript_cnn, "-o", tmp_path / "m.onnx", "--strict")
    assert_one_line_error(code, err, "--strict", "--quantize int8")
