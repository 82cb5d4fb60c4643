"""Every sensor source on real transports: a CSV file, stdin through a pipe
(line by line, live), UDP on loopback, a serial port through a pseudo-terminal
pair; malformed lines skipped and counted."""
import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from edgeinfer.errors import UserError
from edgeinfer.sensor.stream import MalformedLine, SampleParser, open_sensor

CHANNELS = ["ax", "ay", "az"]


def drain(source, limit=None, timeout=5.0):
    samples, deadline = [], time.monotonic() + timeout
    while not source.finished and time.monotonic() < deadline:
        sample = source.read(timeout=0.1)
        if sample is not None:
            samples.append(sample)
            if limit is not None and len(samples) == limit:
                break
    return samples


def test_csv_columns_matched_by_name(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("az,timestamp,ay,extra,ax\n3,0.0,2,9,1\n6,0.1,5,9,4\n")
    source = open_sensor(str(path), CHANNELS)
    samples = drain(source)
    assert source.finished and source.malformed == 0
    np.testing.assert_array_equal([s.values for s in samples], [[1, 2, 3], [4, 5, 6]])
    assert [s.time for s in samples] == [0.0, 0.1]


@pytest.mark.parametrize("line,problem", [
    ("0.1,1,2", "expected 4 fields, got 3"),
    ("0.1,1,2,3,4", "expected 4 fields, got 5"),
    ("0.1,1,abc,3", "not a number: 'abc'"),
    ("0.1,1,nan,3", "NaN or infinite"),
    ("0.1,inf,2,3", "NaN or infinite"),
])
def test_malformed_lines_are_skipped_and_counted(tmp_path, line, problem):
    path = tmp_path / "s.csv"
    path.write_text(f"t,ax,ay,az\n0,1,2,3\n{line}\n0.2,4,5,6\n")
    source = open_sensor(str(path), CHANNELS)
    samples = drain(source)
    assert [s.line for s in samples] == [2, 4]
    assert source.malformed == 1
    assert problem in source.parser.last_problem


def test_headerless_lines_in_model_order_with_optional_timestamp():
    parser = SampleParser(CHANNELS)
    sample = parser.parse("1.5 2.5 3.5")
    assert sample.time is None and sample.values.tolist() == [1.5, 2.5, 3.5]
    parser = SampleParser(CHANNELS)
    sample = parser.parse("10.0;1;2;3")
    assert sample.time == 10.0 and sample.values.tolist() == [1, 2, 3]
    with pytest.raises(MalformedLine):
        SampleParser(CHANNELS).parse("1,2")


def test_header_missing_a_channel_is_a_user_error(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("t,ax,ay\n0,1,2\n")
    source = open_sensor(str(path), CHANNELS)
    with pytest.raises(UserError, match="missing: az"):
        drain(source)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        open_sensor(str(tmp_path / "nope.csv"), CHANNELS)


def test_stdin_is_read_line_by_line_as_it_arrives():
    reader = textwrap.dedent("""
        import sys
        from edgeinfer.sensor.stream import open_sensor
        source = open_sensor("-", ["ax", "ay", "az"])
        while not source.finished:
            sample = source.read(timeout=0.1)
            if sample is not None:
                print(" ".join(str(v) for v in sample.values.tolist()), flush=True)
        print("malformed", source.malformed, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", reader], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        proc.stdin.write("ax,ay,az\n1,2,3\n")
        proc.stdin.flush()
        # the sample comes back while stdin is still open: live, not buffered to EOF
        assert proc.stdout.readline().strip() == "1.0 2.0 3.0"
        proc.stdin.write("oops\n4,5,6\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "4.0 5.0 6.0"
        proc.stdin.close()
        assert proc.stdout.readline().strip() == "malformed 1"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_udp_datagrams_on_loopback():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    source = open_sensor(f"udp:127.0.0.1:{port}", CHANNELS)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        expected = [[i, i + 1, i + 2] for i in range(0, 30, 3)]
        for i in range(0, len(expected), 2):  # two lines per datagram, as phone apps batch them
            lines = "\n".join(",".join(map(str, row)) for row in expected[i:i + 2])
            sender.sendto(lines.encode(), ("127.0.0.1", port))
            time.sleep(0.01)
        samples = drain(source, limit=len(expected))
        np.testing.assert_array_equal([s.values for s in samples], expected)
    finally:
        sender.close()
        source.close()


def test_serial_port_through_a_pseudo_terminal():
    pytest.importorskip("serial")
    import pty
    import tty

    controller, device = pty.openpty()
    tty.setraw(device)
    source = open_sensor(f"serial:{os.ttyname(device)}@115200", CHANNELS)
    try:
        os.write(controller, b"t,ax,ay,az\r\n0.0,1,2,3\r\n0.1,4,5")
        time.sleep(0.05)
        os.write(controller, b",6\r\n0.2,bad,5,6\r\n")  # a line split across writes
        samples = drain(source, limit=2)
        np.testing.assert_array_equal([s.values for s in samples], [[1, 2, 3], [4, 5, 6]])
        time.sleep(0.2)
        assert source.malformed == 1
    finally:
        source.close()
        os.close(controller)
        os.close(device)


def test_serial_without_pyserial_or_device_says_what_to_do():
    with pytest.raises(UserError, match="serial"):
        open_sensor("serial:/dev/ttyDOESNOTEXIST@9600", CHANNELS)
