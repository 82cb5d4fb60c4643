"""Long work shows itself through edgeinfer/progress.py: a bar or step lines on
a terminal for convert (loading, exporting, verifying, calibrating), collect,
personalize and eval; nothing of it in a pipe or with --quiet."""
import io
import os
import sys

import pytest

from edgeinfer.cli import main

from learn_data import digits, write_class_folders


class Terminal(io.StringIO):
    """Standard error as a person watching it would have it."""

    def isatty(self):
        return True


@pytest.fixture
def terminal(monkeypatch):
    """Runs `edgeinfer ARGS...` with a terminal on standard error: (exit code, what it showed)."""
    def run(*args):
        screen = Terminal()
        monkeypatch.setattr(sys, "stderr", screen)
        try:
            code = main([str(a) for a in args])
        finally:
            monkeypatch.setattr(sys, "stderr", sys.__stderr__)
        return code, screen.getvalue()
    return run


@pytest.fixture(scope="module")
def samples(tmp_path_factory, digits_base):
    root = tmp_path_factory.mktemp("progress")
    images, labels = digits()
    chosen = [i for i, label in enumerate(labels) if label in (0, 1)][:12]
    return dict(base=digits_base,
                data=write_class_folders(str(root / "data"), images[chosen], labels[chosen]))


def test_collect_shows_a_bar_on_a_terminal_instead_of_a_line_per_sample(samples, tmp_path,
                                                                       terminal):
    code, shown = terminal("collect", "--data", tmp_path / "d", "--label", "x", "--image",
                           os.path.join(samples["data"], "0"), "--count", "3")
    assert code == 0
    assert "saving frames:" in shown and "/3 [" in shown  # tqdm's "saving frames: ... n/3 ["
    assert "saved 3 frames" in shown  # the closing line stays


@pytest.mark.parametrize("quiet", [False, True])
def test_personalize_embedding_bar_and_training_step(samples, tmp_path, terminal, quiet):
    code, shown = terminal("personalize", samples["base"], "--data", samples["data"], "-o",
                           tmp_path / "p.onnx", *(["--quiet"] if quiet else []))
    assert code == 0
    said = ("embedding:" in shown, "training the softmax head" in shown)
    assert said == ((False, False) if quiet else (True, True))
    assert "wrote" in shown  # the result is reported either way


def test_eval_shows_a_bar_while_classifying(samples, terminal):
    code, shown = terminal("eval", samples["base"], "--data", samples["data"])
    assert code == 0 and "classifying:" in shown


def test_nothing_of_it_in_a_pipe(samples, tmp_path, capsys):
    assert main(["personalize", samples["base"], "--data", samples["data"], "-o",
                 str(tmp_path / "p.onnx")]) == 0
    assert main(["collect", "--data", str(tmp_path / "d"), "--label", "x", "--image",
                 os.path.join(samples["data"], "0"), "--count", "2"]) == 0
    err = capsys.readouterr().err
    assert "embedding:" not in err and "training the" not in err and "saving frames:" not in err
    assert "\r" not in err


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("quiet", [False, True])
def test_convert_says_each_long_step_on_a_terminal(tmp_path, terminal, quiet):
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(),
                                 torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                 torch.nn.Linear(4, 2)).eval()
    source = str(tmp_path / "m.pt")
    torch.jit.script(module).save(source)
    code, shown = terminal("convert", source, "-o", tmp_path / "m.onnx", "--input-shape",
                           "1,3,32,32", "--labels", "a,b", *(["-q"] if quiet else []))
    assert code == 0, shown
    steps = ["exporting", "folding constants", "verifying against", "verifying:"]
    assert [step in shown for step in steps] == [not quiet] * 4
    assert "verified against" in shown and "wrote" in shown  # results print either way


def test_convert_int8_shows_calibration(tmp_path, terminal):
    import cv2
    from tools import sample_clip, tiny_models

    source = tiny_models.save(tiny_models.random_classifier(["a", "b"], size=(16, 16)),
                              tmp_path / "m.onnx")
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    for i, (frame, _) in enumerate(sample_clip.clip_frames((64, 48), 2)):
        cv2.imwrite(str(calibration / f"{i}.png"), frame)
    code, shown = terminal("convert", source, "-o", tmp_path / "q.onnx", "--quantize", "int8",
                           "--calibration", calibration)
    assert code == 0, shown
    assert "reading calibration images" in shown and "calibrating int8 ranges on 4 images" \
        in shown
