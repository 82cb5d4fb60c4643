"""Bytes to lines for every sensor transport: any line end (LF, CRLF, CR
only) however the bytes are cut into chunks, bytes that are not UTF-8 shown
escaped, and UDP lines reassembled per sender across datagrams."""
from hypothesis import given, strategies as st

from edgeinfer.sensor.lines import DatagramLines, LineSplitter, printable

LINE_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                    min_size=1, max_size=12)  # an empty line after a CR-only end would be CRLF


def split_all(chunks):
    splitter = LineSplitter()
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines + splitter.finish()


@given(lines=st.lists(LINE_TEXT, max_size=12),
       ends=st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=12, max_size=12),
       cuts=st.lists(st.integers(0, 400), max_size=8))
def test_any_line_end_and_any_chunking_give_the_same_lines(lines, ends, cuts):
    data = b"".join(line.encode() + end for line, end in zip(lines, ends))
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    assert split_all(chunks) == lines


def test_crlf_split_between_chunks_is_one_line_end():
    splitter = LineSplitter()
    assert splitter.feed(b"1,2,3\r") == ["1,2,3"]   # handed on at once, not after the next line
    assert splitter.feed(b"\n4,5,6\r\n") == ["4,5,6"]


def test_last_line_without_a_line_end_comes_at_the_end():
    assert split_all([b"1,2,3\n4,5", b",6"]) == ["1,2,3", "4,5,6"]


def test_bytes_that_are_not_utf8_are_escaped_not_fatal():
    assert split_all([b"0.1,2\xb0,3\n\xff\xfe\n1,2,3\n"]) == ["0.1,2\\xb0,3", "\\xff\\xfe", "1,2,3"]


def test_printable_escapes_control_characters():
    assert printable("MPU\x1b[2J ready\x00") == "'MPU\\x1b[2J ready\\x00'"
    assert printable("température") == "'température'"


def test_udp_line_split_across_datagrams_is_joined():
    # `nc -u` cuts wherever its read stopped
    senders = DatagramLines()
    alice = ("127.0.0.1", 4000)
    assert senders.feed(b"t,ax,ay,az\n0.0,1,2,3\n0.1,4,", alice) == ["t,ax,ay,az", "0.0,1,2,3"]
    assert senders.feed(b"5,6\n0.2,7,8", alice) == ["0.1,4,5,6"]
    assert senders.feed(b",9\n", alice) == ["0.2,7,8,9"]
    assert senders.pause() == []  # a pause does not end a line sender's line


def test_udp_first_line_written_field_by_field_is_joined():
    senders = DatagramLines()
    arduino = ("127.0.0.1", 4001)
    pieces = [b"0.0", b",", b"1", b",", b"2", b",", b"3", b"\n"]
    assert [senders.feed(piece, arduino) for piece in pieces] == [[]] * 7 + [["0.0,1,2,3"]]


def test_udp_senders_are_reassembled_separately():
    senders = DatagramLines()
    alice, bob = ("10.0.0.1", 4000), ("10.0.0.2", 4000)
    assert senders.feed(b"1,2,3\n4,", alice) == ["1,2,3"]
    assert senders.feed(b"7,8,9\n10,", bob) == ["7,8,9"]
    assert senders.feed(b"5,6\n", alice) == ["4,5,6"]
    assert senders.feed(b"11,12\n", bob) == ["10,11,12"]


def test_udp_sender_without_line_ends_sends_a_line_per_datagram():
    # phone apps: one sample per datagram, no line end at all
    senders = DatagramLines()
    phone = ("192.168.1.7", 5555)
    sent = [f"{i},{i + 1},{i + 2}" for i in range(0, 3 * (DatagramLines.DECIDE_AFTER + 2), 3)]
    got = []
    for i, line in enumerate(sent):
        got += senders.feed(line.encode(), phone)
        # held until the format shows, then each datagram is a line as it comes
        assert got == (sent[:i + 1] if i + 1 >= DatagramLines.DECIDE_AFTER else [])
    assert senders.pause() == []


def test_udp_datagrams_held_for_the_format_are_released_by_a_pause():
    senders = DatagramLines()
    phone = ("192.168.1.7", 5555)
    assert senders.feed(b"1,2,3", phone) == []
    assert senders.feed(b"4,5,6", phone) == []
    assert senders.pause() == ["1,2,3", "4,5,6"]
    assert senders.feed(b"7,8,9", phone) == ["7,8,9"]


def test_udp_line_end_turns_a_datagram_sender_into_a_line_sender():
    senders = DatagramLines()
    sender = ("127.0.0.1", 4000)
    senders.feed(b"1,2,3", sender)
    assert senders.pause() == ["1,2,3"]
    assert senders.feed(b"4,5,6\n7,", sender) == ["4,5,6"]
    assert senders.feed(b"8,9\n", sender) == ["7,8,9"]
