"""Every subcommand's argument errors are one line and exit status 2, never a
traceback or argparse's usage block; `edgeinfer --version` names the release."""
import argparse

import pytest

from edgeinfer import cli
from edgeinfer.version import __version__

BAD_VALUE = "not-a-value"


def edgeinfer(capsys, *args):
    """`edgeinfer ARGS...` in-process: (exit code, stdout, stderr), argparse's exits included."""
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line(code, err, command):
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"edgeinfer {command}: "), err
    assert "usage:" not in err


def _subparsers():
    parser = cli.build_parser()
    choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return choices.choices


def _typed_options():
    """(command, option) for every option argparse checks the value of: a type
    other than plain text, or a fixed set of choices."""
    cases = []
    for command, parser in _subparsers().items():
        for action in parser._actions:
            if not action.option_strings or action.nargs == 0:
                continue
            if action.choices is not None or action.type not in (None, str):
                cases.append((command, action.option_strings[-1]))
    return cases


def test_version_names_the_release(capsys):
    code, out, _ = edgeinfer(capsys, "--version")
    assert code == 0
    assert out.strip() == f"edgeinfer {__version__}"


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_an_unknown_option_is_one_line(capsys, command):
    code, _, err = edgeinfer(capsys, command, "--no-such-option")
    assert_one_line(code, err, command)
    # named by the command it was given to (a missing required argument may be named first)
    assert f"(see edgeinfer {command} --help)" in err


@pytest.mark.parametrize("command,option", _typed_options())
def test_a_bad_option_value_is_one_line(capsys, command, option):
    code, _, err = edgeinfer(capsys, command, option, BAD_VALUE)
    assert_one_line(code, err, command)
    assert option in err and BAD_VALUE in err


def test_the_vocabulary_commands_have_options_argparse_checks():
    # the parametrised test above must really cover their numeric and choice options
    covered = {command for command, _ in _typed_options()}
    assert {"convert", "eval", "collect", "personalize", "preprocess"} <= covered


@pytest.mark.parametrize("args,words", [
    (["preprocess", "--size", "abc"], ["--size", "abc"]),
    (["preprocess", "--size", "0"], ["--size"]),
    (["preprocess", "--crop", "1,2"], ["--crop"]),
    (["preprocess", "--mean", "red"], ["--mean"]),
    (["preprocess", "--repeat", "-1"], ["--repeat"]),
    (["preprocess", "no-such-photo.jpg"], ["no-such-photo.jpg"]),
    (["convert", "-o", "out.onnx"], ["SOURCE"]),
    (["convert", "m.onnx", "-o", "out.onnx", "--input-shape", "x"], ["--input-shape"]),
    (["convert", "m.onnx", "-o", "out.onnx", "--labels", "missing.txt"], ["missing.txt"]),
    (["eval", "--data", "."], ["--model"]),
    (["eval", "m.onnx", "--data", ".", "--threads", "0"], ["--threads"]),
    (["personalize", "--data", ".", "-o", "p.onnx"], ["--model"]),
    (["personalize", "m.onnx", "--data", ".", "-o", "p.onnx", "--augment", "-1"], ["--augment"]),
    (["collect", "--data", ".", "--label", "cup", "--count", "0"], ["--count"]),
    (["collect", "--data", ".", "--label", "cup", "--image", "missing-folder/"],
     ["missing-folder"]),
    (["run", "--model", "m.onnx", "--top-k", "many"], ["--top-k"]),
    (["bench", "m.onnx", "--runs", "x"], ["--runs"]),
    (["inspect"], ["model"]),
], ids=lambda value: " ".join(value) if isinstance(value, list) and value[0] in cli.COMMANDS
   else None)
def test_bad_arguments_are_one_line(capsys, tmp_path, monkeypatch, args, words):
    """`edgeinfer preprocess --size abc` printed a traceback."""
    monkeypatch.chdir(tmp_path)
    code, _, err = edgeinfer(capsys, *args)
    assert_one_line(code, err, args[0])
    assert all(word in err for word in words), err
