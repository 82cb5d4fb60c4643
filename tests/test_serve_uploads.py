"""A posted image's size is read from its header, for every format the server
takes, before anything is decoded; an image over the pixel limit is refused
even when OpenCV would decode it."""
import os

import cv2
import numpy as np
import pytest

from edgeinfer.media import DATA_DIR, read_image
from edgeinfer.serve.uploads import BadUpload, declared_size, decode_image


def encoded(ext, width, height, *params):
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = (40, 160, 220)
    ok, data = cv2.imencode(ext, image, list(params))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("ext,kind,params", [
    (".png", "PNG", []), (".jpg", "JPEG", []), (".jpg", "JPEG", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
    (".bmp", "BMP", []), (".webp", "WebP", [cv2.IMWRITE_WEBP_QUALITY, 80]),
    (".webp", "WebP", [cv2.IMWRITE_WEBP_QUALITY, 101]),   # above 100: lossless (VP8L)
])
@pytest.mark.parametrize("width,height", [(1, 1), (317, 45), (640, 480)])
def test_declared_size_matches_the_decoded_image(ext, kind, params, width, height):
    data = encoded(ext, width, height, *params)
    assert declared_size(data) == (kind, width, height)
    assert decode_image(data).shape == (height, width, 3)


def test_a_real_photo_s_size_is_found_past_its_markers():
    path = os.path.join(DATA_DIR, "coffee.jpg")
    with open(path, "rb") as f:
        data = f.read()
    height, width = read_image(path).shape[:2]
    assert declared_size(data) == ("JPEG", width, height)


def test_an_image_over_the_pixel_limit_is_refused_though_it_would_decode():
    data = encoded(".png", 3000, 2000)
    assert decode_image(data, max_pixels=6_000_000).shape == (2000, 3000, 3)
    with pytest.raises(BadUpload) as refused:
        decode_image(data, max_pixels=5_999_999)
    assert refused.value.status == 400 and "3000x2000" in str(refused.value)


def test_a_bmp_stored_top_down_has_a_negative_height_in_its_header():
    data = bytearray(encoded(".bmp", 20, 10))
    data[22:26] = (-10).to_bytes(4, "little", signed=True)
    assert declared_size(bytes(data)) == ("BMP", 20, 10)


@pytest.mark.parametrize("data", [b"", b"GIF89a\x01\x00\x01\x00", b"II*\x00", b"\x00" * 100,
                                  b"<svg xmlns='http://www.w3.org/2000/svg'/>"])
def test_anything_else_is_not_an_image(data):
    with pytest.raises(BadUpload, match="not a JPEG, PNG, BMP or WebP") as refused:
        declared_size(data)
    assert refused.value.status == 400


@pytest.mark.parametrize("cut", [3, 12, 20, 30])
def test_a_header_cut_short_is_refused_in_one_line(cut):
    for ext in (".png", ".jpg", ".webp", ".bmp"):
        data = encoded(ext, 64, 48)[:cut]
        try:
            declared_size(data)
        except BadUpload as refused:
            assert refused.status == 400 and "\n" not in str(refused)
        else:   # the size was in the part that came: the decode says it is damaged
            with pytest.raises(BadUpload, match="damaged"):
                decode_image(data)


def test_an_image_declaring_no_pixels_is_refused():
    data = bytearray(encoded(".png", 4, 4))
    data[16:24] = bytes(8)
    with pytest.raises(BadUpload, match="0x0 pixels"):
        decode_image(bytes(data))
