"""Sensor sample streams: a CSV file, stdin, a serial port or UDP datagrams,
one sample per line ("t,ax,ay,az,..." or just the values).

Columns are matched to the model's channels by name when the stream starts
with a header row; without one, a line holds the channels in the model's
order, optionally preceded by a timestamp. A malformed line (wrong number of
fields, a non-number, NaN or infinity) is skipped and counted, never fatal.

    source = open_sensor("walk.csv", channels=["ax", "ay", "az"])
    while not source.finished:
        sample = source.read(timeout=0.1)   # a Sample, or None when none is ready yet
    source.close()
"""
from __future__ import annotations

import logging
import math
import queue
import re
import socket
import sys
import threading
import time as clock
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import UserError
from ..sources.frame import Frame
from .window import SensorWindow

log = logging.getLogger("edgeinfer")

TIME_COLUMNS = ("timestamp", "t", "time", "ts")
FIELD_SEPARATOR = re.compile(r"[,;\t ]+")


@dataclass
class Sample:
    values: np.ndarray          # float32, in the model's channel order
    time: Optional[float]       # the stream's timestamp, if it has one
    line: int                   # 1-based line number in the stream


class MalformedLine(ValueError):
    pass


def _is_number(text):
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

    def _read_header(self, fields):
        names = [f.strip().lower() for f in fields]
        missing = [c for c in self.channels if c not in names]
        if missing:
            raise UserError(f"{self.origin} has columns {', '.join(names)} but the model needs "
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
        text = text.strip()
        if not text or text.startswith("#"):
            return None
        fields = FIELD_SEPARATOR.split(text)
        if self.field_count is None:
            if not any(_is_number(f) for f in fields):
                self._read_header(fields)
                return None
            self._positional(len(fields))
        if len(fields) != self.field_count:
            raise MalformedLine(f"expected {self.field_count} fields, got {len(fields)}")
        try:
            values = [float(fields[i]) for i in self.value_columns]
            time = float(fields[self.time_column]) if self.time_column is not None else None
        except ValueError:
            bad = next(f for f in fields if not _is_number(f))
            raise MalformedLine(f"not a number: {bad!r}") from None
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


class SensorSource:
    """Reads lines on a thread of its own and hands Samples out in order."""

    def __init__(self, name, lines, parser, live, closer=None):
        self.name = name
        self.parser = parser
        self.live = live
        self.finished = False
        self.error = None
        self._lines = lines
        self._closer = closer
        self._queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read_lines, name=f"sensor {name}",
                                        daemon=True)
        self._thread.start()

    @property
    def malformed(self):
        return self.parser.malformed

    def _read_lines(self):
        try:
            for text in self._lines:
                if self._stop.is_set():
                    break
                sample = self.parser.parse_or_count(text)
                if sample is not None:
                    self._queue.put(sample)
        except UserError as error:
            self.error = error
        except OSError as error:
            self.error = UserError(f"reading {self.name} failed: {error}")
        finally:
            self._queue.put(None)  # end of stream

    def read(self, timeout=None):
        """The next Sample; None when none came within timeout or the stream ended
        (then `finished` is set). A header that does not fit the model raises here."""
        if self.finished:
            return None
        try:
            sample = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if sample is None:
            self.finished = True
            if self.error is not None:
                raise self.error
        return sample

    def close(self):
        self._stop.set()
        if self._closer is not None:
            self._closer()


def _file_lines(path):
    try:
        handle = open(path, "r", encoding="utf-8", errors="replace", newline="")
    except FileNotFoundError:
        raise UserError(f"sensor file {path} does not exist") from None
    except OSError as error:
        raise UserError(f"cannot open sensor file {path}: {error.strerror}") from None

    def lines():
        with handle:
            yield from handle
    return lines(), handle.close


def _serial_lines(spec):
    port, _, baud = spec.partition("@")
    try:
        import serial  # pyserial
    except ImportError:
        raise UserError("reading a serial port needs pyserial: pip install 'edgeinfer[serial]'") \
            from None
    try:
        device = serial.Serial(port, int(baud or 115200), timeout=0.5)
    except (serial.SerialException, ValueError) as error:
        raise UserError(f"cannot open serial port {port}: {error}; check the device name "
                        "(ls /dev/ttyUSB* /dev/ttyACM*) and that you may read it "
                        "(the dialout group)") from None

    def lines():
        pending = b""
        while device.is_open:
            try:
                chunk = device.read(device.in_waiting or 1)
            except (serial.SerialException, TypeError, OSError):
                return
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                yield raw.decode("utf-8", errors="replace")
    return lines(), device.close


def _udp_lines(spec):
    host, _, port = spec.rpartition(":")
    try:
        address = (host or "0.0.0.0", int(port))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(address)
    except (ValueError, OSError) as error:
        raise UserError(f"cannot listen for UDP on {spec}: {error}; use udp:HOST:PORT with a "
                        "free port, e.g. udp:0.0.0.0:5555") from None
    sock.settimeout(0.5)
    closed = threading.Event()

    def lines():
        while not closed.is_set():
            try:
                datagram, _ = sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            yield from datagram.decode("utf-8", errors="replace").splitlines()

    def close():
        closed.set()
        sock.close()
    return lines(), close


def open_sensor(spec, channels):
    """A SensorSource for `spec`: a CSV path, "-" (stdin), serial:PORT@BAUD or
    udp:HOST:PORT; `channels` are the model's channel names, in its order."""
    if spec == "-":
        return SensorSource("stdin", iter(sys.stdin.readline, ""), SampleParser(channels, "stdin"),
                            live=True)
    if spec.startswith("serial:"):
        lines, close = _serial_lines(spec[len("serial:"):])
        return SensorSource(spec, lines, SampleParser(channels, spec), live=True, closer=close)
    if spec.startswith("udp:"):
        lines, close = _udp_lines(spec[len("udp:"):])
        return SensorSource(spec, lines, SampleParser(channels, spec), live=True, closer=close)
    lines, close = _file_lines(spec)
    return SensorSource(spec, lines, SampleParser(channels, spec), live=False, closer=close)


class SensorWindows:
    """A sensor stream cut into a model's windows, delivered as the pipeline's
    frames: each Frame's image is a (window, channels) array of samples, its
    span the first and last sample times."""

    dropped = 0  # a sensor stream loses no samples: windows wait for the model
    fps = None

    def __init__(self, source, sensor):
        self.source = source
        self.windower = SensorWindow(sensor.window, sensor.hop, len(sensor.channels),
                                     sample_rate=sensor.sample_rate)
        self.description = (f"{source.name} ({sensor.window}-sample windows every {sensor.hop} "
                            f"samples of {', '.join(sensor.channels)})")
        self._warned_malformed = False

    @property
    def finished(self):
        return self.source.finished

    @property
    def skipped(self):
        """Malformed lines skipped."""
        return self.source.malformed

    def read(self, timeout=None):
        """The next complete window as a Frame, or None when none came in time."""
        deadline = None if timeout is None else clock.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - clock.monotonic())
            sample = self.source.read(timeout=left)
            self._report_malformed()
            if sample is None:
                return None
            gaps = self.windower.gaps
            window = self.windower.push(sample.values, sample.time)
            if self.windower.gaps > gaps:
                log.warning(f"{self.source.name}: timestamps jump before line {sample.line}; "
                            "the window starts again after the gap")
            if window is not None:
                return Frame(image=window.samples, index=window.index,
                             captured=clock.monotonic(), wall_time=clock.time(),
                             span=(window.first_time, window.last_time))

    def _report_malformed(self):
        if self.source.malformed and not self._warned_malformed:
            self._warned_malformed = True
            log.warning(f"{self.source.name}: skipping malformed lines "
                        f"({self.source.parser.last_problem}); the count is in the summary")

    def close(self):
        self.source.close()


def open_sensor_windows(spec, sensor):
    """The pipeline's source for a sensor model: `spec` as for open_sensor,
    `sensor` the model's SensorInput (window, hop, channels, sample rate)."""
    return SensorWindows(open_sensor(spec, sensor.channels), sensor)
