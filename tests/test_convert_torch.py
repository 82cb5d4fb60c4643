"""PyTorch modules (one left in training mode with BatchNorm and Dropout) and
TorchScript files: one self-contained ONNX file with a dynamic batch axis
that matches the module in eval mode."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import assert_one_line_error  # noqa: E402
from framework_models import SIZE, read_metadata, run_onnx, runtime_inputs, torch_cnn  # noqa: E402

from edgeinfer.convert import from_torch  # noqa: E402


def eval_output(module, x):
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def test_module_in_training_mode_is_exported_in_eval_mode(tmp_path, capsys):
    module = torch_cnn()
    assert module.training
    out = tmp_path / "cnn.onnx"
    info = from_torch(module, str(out), input_shape=(1, 3, SIZE, SIZE), labels=list("abcde"))
    assert "eval mode" in capsys.readouterr().err
    module.eval()
    # only the model file: no .onnx.data side file, no temporary left over
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.onnx"]
    assert info.verification["passed"] and info.verification["max_abs_diff"] < 1e-4
    assert info.output == "logits" and info.labels == list("abcde")
    # torchvision's convention by default
    assert tuple(info.image.mean) == pytest.approx((123.675, 116.28, 103.53))
    assert info.image.crop == 0.875 and info.image.layout == "nchw"
    for x in runtime_inputs(info):
        np.testing.assert_allclose(run_onnx(str(out), x), eval_output(module, x), atol=1e-5)
    # and eval mode matters: training-mode numbers differ from what was exported
    module.train()
    torch.manual_seed(0)
    x = runtime_inputs(info)[0]
    with torch.no_grad():
        train_numbers = module(torch.from_numpy(np.repeat(x, 4, axis=0))).numpy()[:1]
    assert np.abs(train_numbers - run_onnx(str(out), x)).max() > 1e-3


def test_from_torch_leaves_the_module_in_the_mode_it_was_in(tmp_path):
    """It left a module being trained in eval mode: dropout off for the rest of training."""
    module = torch_cnn()
    frozen = next(m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d))
    frozen.eval()  # a caller's mix: training, with one batch-norm frozen
    modes = [m.training for m in module.modules()]
    from_torch(module, str(tmp_path / "a.onnx"), input_shape=(1, 3, SIZE, SIZE))
    assert [m.training for m in module.modules()] == modes and module.training
    module.eval()
    from_torch(module, str(tmp_path / "b.onnx"), input_shape=(1, 3, SIZE, SIZE))
    assert not any(m.training for m in module.modules())


def test_batch_axis_is_dynamic(tmp_path):
    module = torch_cnn().eval()
    out = tmp_path / "cnn.onnx"
    from_torch(module, str(out), input_shape=(1, 3, SIZE, SIZE))
    batch = np.random.default_rng(3).standard_normal((5, 3, SIZE, SIZE)).astype(np.float32)
    got = run_onnx(str(out), batch)
    assert got.shape == (5, 5)
    np.testing.assert_allclose(got, eval_output(module, batch), atol=1e-5)


def test_declared_preprocessing_is_recorded_and_used(tmp_path):
    module = torch_cnn().eval()
    out = tmp_path / "cnn.onnx"
    info = from_torch(module, str(out), input_shape=(1, 3, SIZE, SIZE),
                      preprocess=dict(mean=(127.0,) * 3, std=(128.0,) * 3, crop=None, color="bgr"))
    stored = read_metadata(str(out))
    assert stored.image == info.image
    assert stored.image.color == "bgr" and stored.image.crop is None
    assert tuple(stored.image.mean) == (127.0,) * 3


def test_torchscript_file_from_the_cli(tmp_path, cli):
    module = torch_cnn().eval()
    scripted = torch.jit.script(module)
    source = tmp_path / "cnn.pt"
    scripted.save(str(source))
    out = tmp_path / "cnn.onnx"
    code, _, err = cli("convert", source, "-o", out, "--input-shape", f"1,3,{SIZE},{SIZE}",
                       "--preprocess", "unit")
    assert code == 0, err
    info = read_metadata(str(out))
    assert info.source["format"] == "torchscript" and info.source["framework"] == "pytorch"
    assert tuple(info.image.std) == (255.0,) * 3
    for x in runtime_inputs(info):
        np.testing.assert_allclose(run_onnx(str(out), x), eval_output(module, x), atol=1e-5)


def test_state_dict_pt_is_not_torchscript(tmp_path, cli):
    source = tmp_path / "weights.pt"
    torch.save(torch_cnn().state_dict(), str(source))
    out = tmp_path / "out.onnx"
    code, _, err = cli("convert", source, "-o", out)
    assert_one_line_error(code, err, "weights.pt", "not a TorchScript file", "from_torch")
    assert not out.exists()


def test_truncated_torchscript_file(tmp_path, cli):
    whole = tmp_path / "whole.pt"
    torch.jit.script(torch_cnn().eval()).save(str(whole))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(whole.read_bytes()[:3000])
    code, _, err = cli("convert", truncated, "-o", tmp_path / "out.onnx")
    assert_one_line_error(code, err, "truncated.pt")
    assert not (tmp_path / "out.onnx").exists()


def test_wrong_input_shape_is_a_user_error(tmp_path):
    from edgeinfer.errors import UserError

    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
    with pytest.raises(UserError, match="input shape"):
        from_torch(linear, str(tmp_path / "x.onnx"), input_shape=(1, 3, 8, 8))
    assert not (tmp_path / "x.onnx").exists()
