"""Every sensor source on real transports: a CSV file, stdin through a pipe
(line by line, live), UDP on loopback, a serial port through a pseudo-terminal
pair; malformed lines skipped and counted."""
import json
import os
import select
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
    assert source.finished and source.producer.malformed == 0
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
    assert source.producer.malformed == 1
    assert problem in source.producer.parser.last_problem


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
        print("malformed", source.producer.malformed, flush=True)
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
            lines = "".join(",".join(map(str, row)) + "\n" for row in expected[i:i + 2])
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
        assert source.producer.malformed == 1
    finally:
        source.close()
        os.close(controller)
        os.close(device)


def test_serial_without_pyserial_or_device_says_what_to_do():
    with pytest.raises(UserError, match="serial"):
        open_sensor("serial:/dev/ttyDOESNOTEXIST@9600", CHANNELS)


# --- the same bytes over every transport -------------------------------------------------------

STDIN_READER = textwrap.dedent("""
    import json
    from edgeinfer.sensor.stream import open_sensor
    source = open_sensor("-", ["ax", "ay", "az"])
    while not source.finished:
        sample = source.read(timeout=0.1)
        if sample is not None:
            print(json.dumps([sample.values.tolist(), sample.time]), flush=True)
    print(json.dumps({"skipped": source.skipped, "malformed": source.producer.malformed}), flush=True)
""")


def free_udp_port():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def read_through(transport, data, expect, tmp_path, chunk=7):
    """What `data` (bytes) becomes over `transport`: (values, times, skipped,
    malformed) once `expect` samples came. Live transports get the bytes in
    `chunk`-byte pieces (datagrams, writes), so lines and line ends are cut."""
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    if transport == "stdin":
        run = subprocess.run([sys.executable, "-c", STDIN_READER], input=data,
                             capture_output=True, timeout=60)
        assert run.returncode == 0, run.stderr.decode()
        *samples, counts = [json.loads(line) for line in run.stdout.splitlines()]
        values, times = [v for v, _ in samples], [t for _, t in samples]
        return values, times, counts["skipped"], counts["malformed"]
    if transport == "file":
        path = tmp_path / "s.csv"
        path.write_bytes(data)
        source = open_sensor(str(path), CHANNELS)
        samples = drain(source)
        assert source.finished
    elif transport == "udp":
        port = free_udp_port()
        source = open_sensor(f"udp:127.0.0.1:{port}", CHANNELS)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for piece in pieces:
                sender.sendto(piece, ("127.0.0.1", port))
            samples = drain(source, limit=expect)
        finally:
            sender.close()
            source.close()
    else:
        pytest.importorskip("serial")
        import pty
        import tty
        controller, device = pty.openpty()
        tty.setraw(device)  # a real serial line: no newline translation
        source = open_sensor(f"serial:{os.ttyname(device)}@115200", CHANNELS)
        try:
            for piece in pieces:
                os.write(controller, piece)
            samples = drain(source, limit=expect)
        finally:
            source.close()
            os.close(controller)
            os.close(device)
    values = [s.values.tolist() for s in samples]
    return values, [s.time for s in samples], source.skipped, source.producer.malformed


ROWS = [[0.1 * i, float(i), float(i + 1), float(i + 2)] for i in range(6)]


def sample_lines(rows=ROWS, header="t,ax,ay,az"):
    lines = [header] if header else []
    return lines + [",".join(f"{v:g}" for v in row) for row in rows]


def as_bytes(lines, end="\n"):
    return "".join(line + end for line in lines).encode()


ALL_TRANSPORTS = ["file", "stdin", "udp", "serial"]


@pytest.mark.parametrize("transport", ALL_TRANSPORTS)
def test_banner_line_before_header_is_skipped_and_counted(transport, tmp_path):
    data = as_bytes(["MPU6050 ready", "calibrating gyro...", *sample_lines()])
    values, times, skipped, malformed = read_through(transport, data, len(ROWS), tmp_path)
    assert values == [row[1:] for row in ROWS]
    assert times == pytest.approx([row[0] for row in ROWS])
    assert (skipped, malformed) == (2, 0)


@pytest.mark.parametrize("transport", ALL_TRANSPORTS)
def test_banner_line_before_headerless_data_is_skipped_and_counted(transport, tmp_path):
    data = as_bytes(["MPU6050 ready", *sample_lines(header=None)])
    values, times, skipped, _ = read_through(transport, data, len(ROWS), tmp_path)
    assert values == [row[1:] for row in ROWS] and skipped == 1


def test_banner_is_named_escaped_in_the_parser():
    parser = SampleParser(CHANNELS)
    assert parser.parse("\x1b[2JMPU6050 ready") is None
    assert parser.first_banner == "line 1: '\\x1b[2JMPU6050 ready'"
    assert parser.parse("t,ax,ay,az") is None and parser.value_columns == [1, 2, 3]


def test_header_error_escapes_raw_bytes(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"t,gx\x1b[31m,gy\xff,gz\n0,1,2,3\n")
    source = open_sensor(str(path), CHANNELS)
    with pytest.raises(UserError) as error:
        drain(source)
    message = str(error.value)
    assert "'gx\\x1b[31m'" in message and "'gy\\xff'" in message
    assert all(c.isprintable() for c in message)


@pytest.mark.parametrize("transport", ["file", "stdin", "serial"])
def test_utf8_byte_order_mark_does_not_hide_the_time_column(transport, tmp_path):
    data = b"\xef\xbb\xbf" + as_bytes(sample_lines(), end="\r\n")  # Excel's "CSV UTF-8"
    values, times, skipped, malformed = read_through(transport, data, len(ROWS), tmp_path)
    assert times == pytest.approx([row[0] for row in ROWS])
    assert values == [row[1:] for row in ROWS] and (skipped, malformed) == (0, 0)


@pytest.mark.parametrize("transport", ALL_TRANSPORTS)
@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"], ids=["cr", "lf", "crlf"])
def test_cr_only_lf_and_crlf_line_endings_give_every_sample(transport, end, tmp_path):
    data = as_bytes(sample_lines(), end=end)
    values, times, skipped, malformed = read_through(transport, data, len(ROWS), tmp_path)
    assert values == [row[1:] for row in ROWS] and (skipped, malformed) == (0, 0)


def test_cr_only_line_is_handed_on_before_the_next_line_arrives():
    proc = subprocess.Popen([sys.executable, "-c", STDIN_READER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    try:
        proc.stdin.write(b"t,ax,ay,az\r0.0,1,2,3\r")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "the sample did not come while stdin stayed open"
        assert json.loads(proc.stdout.readline()) == [[1, 2, 3], 0.0]
        proc.stdin.close()
        assert json.loads(proc.stdout.readline()) == {"skipped": 0, "malformed": 0}
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("transport", ALL_TRANSPORTS)
def test_non_utf8_byte_is_a_malformed_line_and_reading_goes_on(transport, tmp_path):
    lines = sample_lines()
    data = as_bytes(lines[:3]) + b"0.25,1,2\xb0,3\n" + as_bytes(lines[3:])  # a Latin-1 degree sign
    values, _, skipped, malformed = read_through(transport, data, len(ROWS), tmp_path)
    assert values == [row[1:] for row in ROWS] and (skipped, malformed) == (1, 1)


def test_non_utf8_byte_in_the_message_is_escaped(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"ax,ay,az\n1,2\xb0,3\n")
    source = open_sensor(str(path), CHANNELS)
    drain(source)
    assert source.producer.parser.last_problem == "line 2: not a number: '2\\xb0'"


def test_udp_line_split_across_datagrams_is_reassembled():
    port = free_udp_port()
    source = open_sensor(f"udp:127.0.0.1:{port}", CHANNELS)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # what `logger | nc -u` sends: datagrams cut mid-line, mid-number
        for datagram in [b"t,ax,ay,az\n0.0,1.5,2.5,3.", b"5\n0.1,4.25,5", b".75,6\n0.2,7,8,9\n"]:
            sender.sendto(datagram, ("127.0.0.1", port))
        samples = drain(source, limit=3)
        assert [s.values.tolist() for s in samples] == [[1.5, 2.5, 3.5], [4.25, 5.75, 6], [7, 8, 9]]
        assert source.skipped == 0
    finally:
        sender.close()
        source.close()


def test_udp_senders_lines_are_not_mixed():
    port = free_udp_port()
    source = open_sensor(f"udp:127.0.0.1:{port}", CHANNELS)
    alice = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bob = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        alice.sendto(b"1,2,3\n4,", ("127.0.0.1", port))
        bob.sendto(b"10,20,30\n40,", ("127.0.0.1", port))
        alice.sendto(b"5,6\n", ("127.0.0.1", port))
        bob.sendto(b"50,60\n", ("127.0.0.1", port))
        values = sorted(s.values.tolist() for s in drain(source, limit=4))
        assert values == [[1, 2, 3], [4, 5, 6], [10, 20, 30], [40, 50, 60]]
        assert source.skipped == 0
    finally:
        alice.close()
        bob.close()
        source.close()


def test_udp_sender_of_one_sample_per_datagram_without_line_ends():
    port = free_udp_port()
    source = open_sensor(f"udp:127.0.0.1:{port}", CHANNELS)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(3):
            sender.sendto(f"{i},{i},{i}".encode(), ("127.0.0.1", port))
        assert [s.values.tolist() for s in drain(source, limit=3)] == [[0] * 3, [1] * 3, [2] * 3]
    finally:
        sender.close()
        source.close()


@pytest.mark.parametrize("spec", ["udp:127.0.0.1:99999", "udp:127.0.0.1:-1", "udp:127.0.0.1:x"])
def test_udp_port_out_of_range_is_a_user_error(spec):
    with pytest.raises(UserError, match="port must be a number from 1 to 65535"):
        open_sensor(spec, CHANNELS)
