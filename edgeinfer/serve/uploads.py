"""A posted image to a BGR frame, refusing before decoding what must not be
decoded: a body that is no JPEG, PNG, BMP or WebP, and an image whose header
declares more pixels than MAX_PIXELS (a decompression bomb: a few kilobytes of
PNG can declare 100 000 x 100 000 pixels, 30 GB once decoded)."""
from __future__ import annotations

import struct

import numpy as np

from ..opencv_io import quiet_cv2

MAX_PIXELS = 40_000_000     # a 40-megapixel photo decodes to 120 MB of BGR
FORMATS = "JPEG, PNG, BMP or WebP"


class BadUpload(Exception):
    """A request body that is refused: `status` the HTTP status, the message one line."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def declared_size(data):
    """(format, width, height) as the image's header declares them, read without
    decoding; a BadUpload(400) for anything else."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return "PNG", width, height
        if data.startswith(b"\xff\xd8\xff"):
            return ("JPEG",) + _jpeg_size(data)
        if data.startswith(b"BM"):
            return ("BMP",) + _bmp_size(data)
        if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            return ("WebP",) + _webp_size(data)
    except (struct.error, IndexError, ValueError):
        raise BadUpload(400, "the image is cut short or damaged: its header does not read") \
            from None
    raise BadUpload(400, f"the body is not a {FORMATS} image")


def _jpeg_size(data):
    at = 2
    while True:
        while data[at] != 0xFF:   # IndexError at the end: no size marker in reach
            at += 1
        while data[at] == 0xFF:   # fill bytes
            at += 1
        marker = data[at]
        at += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:   # markers without a length
            continue
        if marker in (0xD9, 0xDA):   # end of image, or scan data before any frame header
            raise ValueError("no frame header")
        length, = struct.unpack(">H", data[at:at + 2])
        # start-of-frame markers C0-CF, except C4 (Huffman), C8 (reserved), CC (arithmetic)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 3:at + 7])
            return width, height
        at += length


def _bmp_size(data):
    header, = struct.unpack("<I", data[14:18])
    if header == 12:   # the old OS/2 header: 16-bit sides
        width, height = struct.unpack("<HH", data[18:22])
    else:
        width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)   # a negative height means top-down rows


def _webp_size(data):
    chunk = data[12:16]
    if chunk == b"VP8X":
        return (1 + int.from_bytes(data[24:27], "little"),
                1 + int.from_bytes(data[27:30], "little"))
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise ValueError("no VP8 start code")
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise ValueError("no VP8L signature")
        bits, = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise ValueError("unknown WebP chunk")


def decode_image(data, max_pixels=MAX_PIXELS):
    """The BGR uint8 frame of an encoded image, after checking its declared size."""
    kind, width, height = declared_size(data)
    if width == 0 or height == 0:
        raise BadUpload(400, f"the {kind} image declares {width}x{height} pixels: it is empty")
    if width * height > max_pixels:
        raise BadUpload(400, f"the {kind} image declares {width}x{height} pixels, more than the "
                             f"{max_pixels / 1e6:g} megapixels this server decodes: send a "
                             "smaller image")
    cv2 = quiet_cv2()
    try:
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        frame = None
    if frame is None:
        raise BadUpload(400, f"the {kind} image is damaged: OpenCV cannot decode it")
    return frame
