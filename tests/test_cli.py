"""The CLI's last line of defence: an error nobody foresaw (a bug) is one line
naming it and how to see more; EDGEINFER_DEBUG=1 shows the traceback."""
import pytest

import edgeinfer.commands.inspect


def broken_command(args):
    raise RuntimeError("index 3 is out of bounds\nsecond line of detail")


def test_unexpected_error_is_one_line_without_traceback(monkeypatch, cli):
    # a command with a bug in it: nothing in the real commands fails this way on purpose
    monkeypatch.setattr(edgeinfer.commands.inspect, "run", broken_command)
    monkeypatch.delenv("EDGEINFER_DEBUG", raising=False)
    code, out, err = cli("inspect", "model.onnx")
    assert code == 1
    assert "Traceback" not in err
    assert err.strip() == ("edgeinfer inspect: unexpected error (RuntimeError: index 3 is out of "
                           "bounds); set EDGEINFER_DEBUG=1 for the traceback")


def test_edgeinfer_debug_shows_the_traceback(monkeypatch, cli):
    monkeypatch.setattr(edgeinfer.commands.inspect, "run", broken_command)
    monkeypatch.setenv("EDGEINFER_DEBUG", "1")
    with pytest.raises(RuntimeError, match="out of bounds"):
        cli("inspect", "model.onnx")
