"""Verification: numbers are compared, a disagreement is reported and stops
the conversion before anything is written."""
import numpy as np
import pytest

from edgeinfer.convert.verify import Sample, VerificationError, check, compare, summary
from edgeinfer.errors import UserError


def samples(rows):
    return [Sample(f"s{i}", np.asarray([row], dtype=np.float32)) for i, row in enumerate(rows)]


def test_identical_outputs_pass():
    data = samples([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])
    report = compare(lambda x: x, lambda x: x.copy(), data)
    assert report["passed"] and report["max_abs_diff"] == 0 and report["top1_agreement"] == 1.0


def test_small_float_noise_passes_and_is_reported():
    data = samples([[10.0, -4.0, 2.5]])
    report = compare(lambda x: x, lambda x: x + np.float32(3e-5), data)
    assert report["passed"]
    assert report["max_abs_diff"] == pytest.approx(3e-5, rel=0.01)
    assert report["max_rel_diff"] == pytest.approx(3e-6, rel=0.01)


def test_a_near_tie_may_flip_but_a_clear_winner_may_not():
    tie = samples([[1.0, 1.0 + 2e-6, 0.0]])
    flipped = compare(lambda x: x, lambda x: x[:, [1, 0, 2]], tie)
    assert flipped["top1_agreement"] == 0.0 and flipped["passed"]

    clear = samples([[0.0, 5.0, 0.0]])
    swapped = compare(lambda x: x, lambda x: x[:, [1, 0, 2]], clear)
    assert not swapped["passed"]
    with pytest.raises(VerificationError, match="top-1 agreement 0%") as error:
        check(swapped, "PyTorch net")
    assert "no file was written" in str(error.value)
    assert isinstance(error.value, UserError)


def test_large_difference_fails_with_the_numbers():
    data = samples([[1.0, 2.0, 3.0]])
    report = compare(lambda x: x, lambda x: x * 1.1, data)
    assert not report["passed"]
    assert "max abs diff 0.3" in summary(report)


def test_shape_mismatch_is_reported():
    with pytest.raises(VerificationError, match="shape"):
        compare(lambda x: x, lambda x: x[:, :2], samples([[1.0, 2.0, 3.0]]))


def branch_on_brightness():
    """A module whose forward branches on the data in Python: tracing records
    only the branch the all-zero example input took, so the export is wrong
    for bright inputs, which is what verification is there to catch."""
    torch = pytest.importorskip("torch")

    class Branchy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.dark = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 3))
            self.bright = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 3))

        def forward(self, x):
            return self.bright(x) if float(x.mean()) > 0.1 else self.dark(x)

    return Branchy()


def test_failed_verification_leaves_no_file(tmp_path):
    from edgeinfer.convert import from_torch

    out = tmp_path / "branchy.onnx"
    with pytest.raises(VerificationError, match="disagrees") as error:
        from_torch(branch_on_brightness(), str(out), input_shape=(1, 3, 16, 16),
                   preprocess="unit")
    assert "max abs diff" in str(error.value)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary


def test_failed_verification_from_the_cli_and_no_verify(tmp_path, cli):
    """A TorchScript model that adds fresh noise on every call: PyTorch and
    onnxruntime draw different numbers, so the outputs cannot agree."""
    torch = pytest.importorskip("torch")
    from conftest import assert_one_line_error
    from framework_models import read_metadata

    class Noisy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.linear = torch.nn.Linear(3 * 16 * 16, 4)

        def forward(self, x):
            return self.linear(torch.flatten(x + torch.rand_like(x), 1))

    source = tmp_path / "noisy.pt"
    torch.jit.script(Noisy().eval()).save(str(source))
    out = tmp_path / "noisy.onnx"
    args = ("convert", source, "-o", out, "--input-shape", "1,3,16,16", "--preprocess", "unit")
    code, _, err = cli(*args)
    assert_one_line_error(code, err, "disagrees", "max abs diff", "--no-verify")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noisy.pt"]

    code, _, err = cli(*args, "--no-verify")
    assert code == 0, err
    assert read_metadata(str(out)).verification["skipped"] is True


def test_single_score_outputs_have_no_top1():
    report = compare(lambda x: x, lambda x: x, samples([[0.7]]))
    assert report["passed"] and report["top1_agreement"] is None
    assert "top-1" not in summary(report)


def test_quantized_source_tolerance_is_scaled_to_its_step_and_keeps_top1():
    from edgeinfer.convert.verify import quantized_tolerance

    int8 = {"bits": 8, "tensors": 3}
    data = samples([[10.0, -4.0, 2.5]])
    one_step = compare(lambda x: x, lambda x: x + np.float32(10 / 127), data,
                       source_quantization=int8)
    assert one_step["passed"] and one_step["rtol"] == quantized_tolerance(8) == 4 / 127
    assert "int8 tensors" in summary(one_step) and "top-1 agreement 100%" in summary(one_step)
    assert not compare(lambda x: x, lambda x: x + np.float32(10 / 127), data)["passed"]
    beyond = compare(lambda x: x, lambda x: x * 1.1, data, source_quantization=int8)
    assert not beyond["passed"]
    clear_flip = compare(lambda x: x, lambda x: x[:, [1, 0, 2]], data, source_quantization=int8)
    assert not clear_flip["passed"]
