"""Sensor sample streams: a CSV file, stdin, a serial port or UDP datagrams,
one sample per line ("t,ax,ay,az,..." or just the values).

Columns are matched to the model's channels by name when the stream starts
with a header row (a line naming a model channel or t/timestamp); without one,
a line holds the channels in the model's order, optionally preceded by a
timestamp. Other text before the data (a boot banner such as "MPU6050 ready",
which an Arduino prints each time its port opens) is skipped and counted, and
so is a malformed line (wrong number of fields, a non-number, NaN or
infinity): neither is fatal. A UTF-8 byte order mark is ignored.

    source = open_sensor("walk.csv", channels=["ax", "ay", "az"])
    while not source.finished:
        sample = source.read(timeout=0.1)   # a Sample, or None when none is ready yet
    source.close()

open_sensor_windows() cuts the samples into a model's windows: the run's source
for a sensor model, delivering SensorWindows. Either is read on its own thread
by sources.capture.ReadAhead, as video and image files are.
"""
from __future__ import annotations

import logging
import math
import re
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import UserError
from ..sources.capture import ReadAhead
from .lines import DatagramLines, LineSplitter, printable
from .window import SlidingWindow

log = logging.getLogger("edgeinfer")

TIME_COLUMNS = ("timestamp", "t", "time", "ts")
FIELD_SEPARATOR = re.compile(r"[,;\t ]+")
BYTE_ORDER_MARK = "\ufeff"   # Excel's "CSV UTF-8" starts with one
READ_SIZE = 65536
FILE_READ_AHEAD = 64  # windows (or samples) a file is read ahead of the model


@dataclass
class Sample:
    values: np.ndarray          # float32, in the model's channel order
    time: Optional[float]       # the stream's timestamp, if it has one
    line: int                   # 1-based line number in the stream


class MalformedLine(ValueError):
    pass


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


class SampleParser:
    """Turns text lines into Samples in the model's channel order."""

    def __init__(self, channels, origin="the stream"):
        self.channels = [c.strip().lower() for c in channels]
        self.origin = origin
        self.value_columns = None   # index of each model channel among a line's fields
        self.time_column = None
        self.field_count = None
        self.lines = 0
        self.malformed = 0
        self.last_problem = None
        self.banner_lines = 0        # text before the data that is not a header
        self.first_banner = None

    @property
    def skipped(self):
        """Lines that gave no sample and were not blank, comments or the header."""
        return self.malformed + self.banner_lines

    def _is_header(self, names):
        return any(n in self.channels or n in TIME_COLUMNS for n in names)

    def _read_header(self, fields):
        names = [f.strip().lower() for f in fields]
        missing = [c for c in self.channels if c not in names]
        if missing:
            raise UserError(f"{self.origin} has columns {', '.join(map(printable, names))} but "
                            f"the model needs "
                            f"{', '.join(self.channels)} (missing: {', '.join(missing)}); rename "
                            "the columns or convert the model with matching --channels")
        self.value_columns = [names.index(c) for c in self.channels]
        self.time_column = next((names.index(t) for t in TIME_COLUMNS if t in names), None)
        self.field_count = len(names)

    def _positional(self, count):
        n = len(self.channels)
        if count == n:
            self.value_columns, self.time_column = list(range(n)), None
        elif count == n + 1:
            self.value_columns, self.time_column = list(range(1, n + 1)), 0
        else:
            raise MalformedLine(f"expected {n} values (or a timestamp and {n} values), "
                                f"got {count} fields")
        self.field_count = count

    def parse(self, text):
        """A Sample, None for a header or blank line; raises MalformedLine."""
        self.lines += 1
        text = text.strip().lstrip(BYTE_ORDER_MARK).strip()
        if not text or text.startswith("#"):
            return None
        fields = FIELD_SEPARATOR.split(text)
        if self.field_count is None:
            if not all(is_number(f) for f in fields):
                if self._is_header([f.strip().lower() for f in fields]):
                    self._read_header(fields)
                else:
                    self.banner_lines += 1
                    self.first_banner = self.first_banner or f"line {self.lines}: {printable(text)}"
                return None
            self._positional(len(fields))
        if len(fields) != self.field_count:
            raise MalformedLine(f"expected {self.field_count} fields, got {len(fields)}")
        try:
            values = [float(fields[i]) for i in self.value_columns]
            time = float(fields[self.time_column]) if self.time_column is not None else None
        except ValueError:
            bad = next(f for f in fields if not is_number(f))
            raise MalformedLine(f"not a number: {printable(bad)}") from None
        if not all(math.isfinite(v) for v in values) or (time is not None and not math.isfinite(time)):
            raise MalformedLine("a value is NaN or infinite")
        return Sample(np.asarray(values, np.float32), time, self.lines)

    def parse_or_count(self, text):
        """parse(), with malformed lines counted and skipped."""
        try:
            return self.parse(text)
        except MalformedLine as problem:
            self.malformed += 1
            self.last_problem = f"line {self.lines}: {problem}"
            return None


class SampleStream:
    """The Samples of one stream, parsed from its lines in order; a producer for
    sources.capture.ReadAhead, whose thread reads it. Text that gives no sample
    is counted, and named in one warning per kind."""

    def __init__(self, name, lines, parser, interrupt=None):
        self.name = self.description = name
        self.parser = parser
        self.fps = None
        self._lines = lines
        self._interrupt = interrupt
        self._warned_malformed = False
        self._warned_banner = False

    @property
    def malformed(self):
        return self.parser.malformed

    @property
    def skipped(self):
        return self.parser.skipped

    def frames(self):
        """Samples as they parse; a header that does not fit the model raises UserError."""
        try:
            for text in self._lines:
                sample = self.parser.parse_or_count(text)
                self._report_skipped()
                if sample is not None:
                    yield sample
        except OSError as error:
            raise UserError(f"reading {self.name} failed: {error}") from None

    def _report_skipped(self):
        parser = self.parser
        if parser.banner_lines and not self._warned_banner:
            self._warned_banner = True
            log.warning(f"{self.name}: skipping text before the data that is not a header "
                        f"({parser.first_banner}); a header names the model's channels "
                        f"({', '.join(parser.channels)}) or t/timestamp; the count is in the "
                        "summary")
        if parser.malformed and not self._warned_malformed:
            self._warned_malformed = True
            log.warning(f"{self.name}: skipping malformed lines ({parser.last_problem}); the "
                        "count is in the summary")

    def interrupt(self):
        """Unblocks a read waiting on the device (closes the socket, port or file)."""
        if self._interrupt is not None:
            self._interrupt()


def _chunk_lines(read):
    """Lines from a blocking `read()` of byte chunks, until it returns b""."""
    splitter = LineSplitter()
    while True:
        chunk = read()
        if not chunk:
            break
        yield from splitter.feed(chunk)
    yield from splitter.finish()


def _file_lines(path):
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise UserError(f"sensor file {path} does not exist") from None
    except OSError as error:
        raise UserError(f"cannot open sensor file {path}: {error.strerror}") from None

    def lines():
        with handle:
            yield from _chunk_lines(lambda: handle.read(READ_SIZE))
    return lines(), handle.close


def _stdin_lines():
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # stdin replaced by a text stream (embedding, tests)
        return (line.rstrip("\r\n") for line in iter(sys.stdin.readline, ""))
    # read1 returns what the pipe holds now: samples are handed on as they arrive
    read = getattr(stream, "read1", stream.read)
    return _chunk_lines(lambda: read(READ_SIZE))


def _serial_lines(spec):
    port, _, baud = spec.partition("@")
    try:
        import serial  # pyserial
    except ImportError:
        raise UserError("reading a serial port needs pyserial: pip install '.[serial]' in the "
                        "edgeinfer checkout") from None
    try:
        device = serial.Serial(port, int(baud or 115200), timeout=0.5)
    except (serial.SerialException, ValueError) as error:
        raise UserError(f"cannot open serial port {port}: {error}; check the device name "
                        "(ls /dev/ttyUSB* /dev/ttyACM*) and that you may read it "
                        "(the dialout group)") from None

    def lines():
        splitter = LineSplitter()
        while device.is_open:
            try:
                chunk = device.read(device.in_waiting or 1)
            except (serial.SerialException, TypeError, OSError):
                return
            yield from splitter.feed(chunk)
    return lines(), device.close


def _udp_address(spec):
    host, _, port = spec.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = None
    if number is None or not 0 < number < 65536:
        raise UserError(f"udp:{spec}: the port must be a number from 1 to 65535, e.g. "
                        "udp:0.0.0.0:5555")
    return host or "0.0.0.0", number


def _udp_lines(spec):
    address = _udp_address(spec)
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(address)
    except (OSError, OverflowError) as error:
        raise UserError(f"cannot listen for UDP on {spec}: {error}; use udp:HOST:PORT with a "
                        "free port, e.g. udp:0.0.0.0:5555") from None
    sock.settimeout(0.5)
    closed = threading.Event()

    def lines():
        senders = DatagramLines()
        while not closed.is_set():
            try:
                datagram, sender = sock.recvfrom(65536)
            except socket.timeout:
                yield from senders.pause()
                continue
            except OSError:
                return
            yield from senders.feed(datagram, sender)

    def close():
        closed.set()
        sock.close()
    return lines(), close


def sample_stream(spec, channels):
    """A SampleStream for `spec`: a CSV path, "-" (stdin), serial:PORT@BAUD or
    udp:HOST:PORT; `channels` are the model's channel names, in its order."""
    parser = SampleParser(channels, "stdin" if spec == "-" else spec)
    if spec == "-":
        return SampleStream("stdin", _stdin_lines(), parser)
    if spec.startswith("serial:"):
        lines, close = _serial_lines(spec[len("serial:"):])
    elif spec.startswith("udp:"):
        lines, close = _udp_lines(spec[len("udp:"):])
    else:
        lines, close = _file_lines(spec)
    return SampleStream(spec, lines, parser, interrupt=close)


def _read_ahead(producer, spec):
    # A live stream is never made to wait: its device's buffer would overflow and
    # lose samples. A file waits, a bounded way ahead.
    live = spec == "-" or spec.startswith(("serial:", "udp:"))
    return ReadAhead(producer, depth=0 if live else FILE_READ_AHEAD).start()


def open_sensor(spec, channels):
    """A started source of Samples (read(timeout), finished, close()) over `spec`,
    read on its own thread by the same ReadAhead as video and image files."""
    return _read_ahead(sample_stream(spec, channels), spec)


class SensorWindows:
    """A sample stream cut into a model's windows: a producer for ReadAhead,
    yielding a SensorWindow of (window, channels) samples every hop samples."""

    fps = None

    def __init__(self, stream, sensor):
        self.stream = stream
        self.windower = SlidingWindow(sensor.window, sensor.hop, len(sensor.channels),
                                      sample_rate=sensor.sample_rate)
        self.description = (f"{stream.name} ({sensor.window}-sample windows every {sensor.hop} "
                            f"samples of {', '.join(sensor.channels)})")

    @property
    def skipped(self):
        """Malformed lines and text before the data, skipped."""
        return self.stream.skipped

    def frames(self):
        for sample in self.stream.frames():
            gaps = self.windower.gaps
            window = self.windower.push(sample.values, sample.time)
            if self.windower.gaps > gaps:
                before, after = self.windower.last_gap
                change = "go back" if after < before else "jump"
                log.warning(f"{self.stream.name}: timestamps {change} from {before:g} to "
                            f"{after:g} at line {sample.line}; the window starts again there")
            if window is not None:
                yield window

    def interrupt(self):
        self.stream.interrupt()


def open_sensor_windows(spec, sensor):
    """The run's source for a sensor model: SensorWindows of `spec` (as for
    open_sensor), `sensor` the model's SensorInput (window, hop, channels, sample
    rate), read on their own thread."""
    return _read_ahead(SensorWindows(sample_stream(spec, sensor.channels), sensor), spec)
