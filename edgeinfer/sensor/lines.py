"""Bytes from a sensor transport turned into text lines, the same way for a
file, stdin, a serial port and UDP: `\\n`, `\\r\\n` and a lone `\\r` all end a
line (Arduino sketches and old loggers send CR only), a line is handed out as
soon as its end arrives (a live stream must not wait for the next line), and
bytes that are not UTF-8 are shown as `\\xNN` instead of stopping the reader.
"""
from __future__ import annotations


def decode_line(raw):
    # backslashreplace keeps the offending byte visible in a malformed-line
    # message (a wrong baud rate shows as a run of \xNN), and never raises
    return raw.decode("utf-8", errors="backslashreplace")


def printable(text):
    """`text` quoted, with control and other unprintable characters escaped,
    for echoing what a stream sent in a message."""
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                    for c in text)
    return f"'{shown}'"


class LineSplitter:
    """Cuts a byte stream arriving in chunks of any size into lines."""

    def __init__(self):
        self._pending = b""
        self._after_cr = False   # the last chunk ended in \r: a \n next is the same line end

    def feed(self, chunk):
        """The text lines completed by `chunk`, without their line ends."""
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._after_cr = False
        if not chunk:
            return []
        self._after_cr = chunk.endswith(b"\r")
        pieces = (self._pending + chunk).splitlines(keepends=True)
        if pieces and not pieces[-1].endswith((b"\n", b"\r")):
            self._pending = pieces.pop()
        else:
            self._pending = b""
        return [decode_line(piece.rstrip(b"\r\n")) for piece in pieces]

    def finish(self):
        """The last line, when the stream ended without a line end."""
        rest, self._pending = self._pending, b""
        return [decode_line(rest)] if rest else []


def holds_a_line_end(datagram):
    return b"\n" in datagram or b"\r" in datagram


class DatagramLines:
    """Lines from UDP datagrams, reassembled per sender.

    A datagram boundary is not a line end: `logger | nc -u HOST PORT` cuts
    its stream into datagrams wherever a read happened to stop, so one line
    can arrive in two datagrams. Each sender gets its own LineSplitter.

    Some senders (phone sensor apps) send one sample per datagram and no
    line end at all; for them the end of a datagram is the end of the line.
    A new sender's first datagrams are held until its format shows: the first
    one holding a line end makes it a line sender (the held datagrams joined),
    DECIDE_AFTER datagrams without one, or a pause in the traffic, make it a
    datagram sender. A line end arriving later turns a datagram sender into a
    line sender. So a sender batching several lines per datagram must end
    every line, the last one too.
    """

    MAX_SENDERS = 256   # bounded memory whatever floods the port
    DECIDE_AFTER = 16   # a line written field by field (Serial.print) takes ~8 datagrams

    def __init__(self):
        self._senders = {}  # address -> _Sender, least recently heard first

    def feed(self, datagram, sender):
        """The lines that `datagram` from `sender` (an address) completes."""
        state = self._senders.pop(sender, None) or _Sender(self.DECIDE_AFTER)
        self._senders[sender] = state
        if len(self._senders) > self.MAX_SENDERS:
            del self._senders[next(iter(self._senders))]
        return state.feed(datagram)

    def pause(self):
        """The lines held back from senders whose format is not known yet:
        nothing came for a while, so their datagrams ended their lines."""
        return [line for state in self._senders.values() for line in state.pause()]


class _Sender:
    def __init__(self, decide_after):
        self.decide_after = decide_after
        self.splitter = LineSplitter()
        self.framing = None    # "lines" or "datagrams" once known
        self.held = []         # datagrams that came before the framing was known

    def feed(self, datagram):
        if self.framing is None:
            self.held.append(datagram)
            if holds_a_line_end(datagram):
                return self._decide("lines")
            if len(self.held) >= self.decide_after:
                return self._decide("datagrams")
            return []
        if self.framing == "datagrams" and holds_a_line_end(datagram):
            self.framing = "lines"
        return self._take(datagram)

    def pause(self):
        return self._decide("datagrams") if self.framing is None and self.held else []

    def _decide(self, framing):
        self.framing = framing
        held, self.held = self.held, []
        return [line for datagram in held for line in self._take(datagram)]

    def _take(self, datagram):
        lines = self.splitter.feed(datagram)
        if self.framing == "datagrams":
            lines += self.splitter.finish()
        return lines
