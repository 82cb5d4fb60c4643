"""edgeinfer.preprocess (C) against edgeinfer.reference.preprocess (numpy)
over drawn frames and every option, under every SIMD level and thread count
(tests/kernel_check.py), and both against OpenCV."""
import cv2
import numpy as np
import pytest
from hypothesis import strategies as st

import edgeinfer
from edgeinfer import reference
from edgeinfer.kernels.frame_plan import plan_frame
from guard_pages import guarded_like
from kernel_check import Case, KernelCheck

IMAGENET = dict(mean=edgeinfer.IMAGENET_MEAN, std=edgeinfer.IMAGENET_STD)


def assert_match(ours, ref, dtype="float32", scale=1.0):
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    if dtype == "uint8":
        # float rounding at exact .5 boundaries may differ by one step
        assert np.abs(ours.astype(int) - ref.astype(int)).max() <= 1
    else:
        np.testing.assert_allclose(ours, ref, rtol=0, atol=2e-4 * 255 * scale)


@st.composite
def frames(draw, max_side=40):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    channels = draw(st.sampled_from([0, 1, 3, 4]))  # 0: a 2-D grey frame
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    view = draw(st.sampled_from(["contiguous", "crop", "flip", "step", "channel-reversed"]))
    pad = 3
    shape = (h + 2 * pad, 2 * w + 2 * pad) + ((channels,) if channels else ())
    big = rng.integers(0, 256, size=shape, dtype=np.uint8)
    if view == "contiguous":
        return np.ascontiguousarray(big[pad:pad + h, pad:pad + w])
    if view == "crop":
        return big[pad:pad + h, pad:pad + w]
    if view == "flip":
        return big[pad + h - 1:pad - 1:-1, pad:pad + w]
    if view == "step":
        return big[pad:pad + h, pad:pad + 2 * w:2]
    return big[pad:pad + h, pad:pad + w, ::-1] if channels else big[pad:pad + h, pad:pad + w]


@st.composite
def options(draw, frame):
    channels = 1 if frame.ndim == 2 else frame.shape[2]
    color = draw(st.sampled_from(["rgb", "bgr", "gray"]))
    out_channels = 1 if color == "gray" else 3
    dtype = draw(st.sampled_from(["float32", "float32", "uint8"]))
    opts = dict(size=(draw(st.integers(1, 48)), draw(st.integers(1, 48))),
                resize=draw(st.sampled_from(["bilinear", "area", "nearest"])),
                color=color, layout=draw(st.sampled_from(["nchw", "nhwc"])), dtype=dtype)
    if channels == 3:
        opts["input_color"] = draw(st.sampled_from(["bgr", "rgb"]))
    elif channels == 4:
        opts["input_color"] = draw(st.sampled_from(["bgra", "rgba", "bgr"]))
    if dtype == "float32":
        stat = st.floats(-300, 300)
        opts["mean"] = tuple(draw(stat) for _ in range(out_channels))
        opts["std"] = tuple(draw(st.floats(0.5, 100)) for _ in range(out_channels))
    crop = draw(st.sampled_from(["none", "fraction", "box", "letterbox"]))
    h, w = frame.shape[:2]
    if crop == "fraction":
        opts["crop"] = draw(st.floats(0.05, 1.0))
    elif crop == "box":
        x = draw(st.integers(0, w - 1))
        y = draw(st.integers(0, h - 1))
        opts["crop"] = (x, y, draw(st.integers(1, w - x)), draw(st.integers(1, h - y)))
    elif crop == "letterbox":
        opts["crop"] = "letterbox"
        opts["pad"] = draw(st.floats(0, 255))
    return opts


def assert_case_matches(ours, expected, case):
    dtype = case.kwargs.get("dtype", "float32")
    std = np.asarray(case.kwargs.get("std", 1.0))
    assert_match(ours, expected, dtype, scale=1.0 / std.min())


PREPROCESS = KernelCheck(edgeinfer.preprocess, reference.preprocess, compare=assert_case_matches)


@st.composite
def preprocess_cases(draw):
    frame = draw(frames())
    return Case((frame,), draw(options(frame)))


test_c_matches_reference = PREPROCESS.property(preprocess_cases())


def seeded(shape, seed=1234, **options):
    return Case((np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8),),
                options)


# frames the C kernel once read past: each must give the reference's tensor,
# and each view's highest byte lies against an unmapped page, so a read past
# it faults here, not only under `make sanitize` (ASan).
# flipped_frame_last_pixel: issue 13; flipped_both_axes_uint8: found by
# tests/fuzz/fuzz_preprocess.py (3x35x3 frame, both axes reversed)
# Views that once made preprocess read outside the frame: it loaded each
# three-byte pixel as four bytes wherever the pixel was not the last in
# logical order, but a reversed column axis puts column 0 at the highest
# address and a zero stride never advances.
READ_PAST_FRAME = {
    "flipped_frame_last_pixel": (lambda f: f[:, ::-1], (20, 20, 3),
                                 dict(size=(16, 16))),
    "flipped_both_axes_uint8": (lambda f: f[::-1, ::-1], (3, 35, 3),
                                dict(size=(14, 43), dtype="uint8")),
    "broadcast_single_pixel": (lambda f: np.broadcast_to(f, (4, 9, 3)), (1, 1, 3),
                               dict(size=(3, 5))),
}


def guarded_view(view, shape, options):
    frame = view(np.random.default_rng(1234).integers(0, 256, size=shape, dtype=np.uint8))
    return Case((guarded_like(frame, "end"),), options)


REGRESSIONS = {
    **{name: guarded_view(*case) for name, case in READ_PAST_FRAME.items()},
    # every resize mode, shrinking a VGA frame, enlarging an odd one and a tiny one
    **{f"{resize}_{shape[0]}x{shape[1]}_to_{size[0]}x{size[1]}": seeded(
        shape + (3,), size=size, resize=resize, **IMAGENET)
       for shape, size in [((480, 640), (224, 224)), ((31, 17), (64, 40)), ((5, 5), (3, 4))]
       for resize in ("bilinear", "area", "nearest")},
    # output rows enough to be split between threads
    "threads_split_a_large_output": seeded((720, 1280, 3), size=(1080, 1200), **IMAGENET),
}
test_regressions = PREPROCESS.regression_test(REGRESSIONS)


@pytest.mark.parametrize("shape", [(480, 640), (37, 1001), (1, 1), (3, 2), (224, 224)])
@pytest.mark.parametrize("size", [(224, 224), (7, 300), (1, 1), (500, 500)])
def test_sizes_up_and_down(shape, size, rng):
    frame = rng.integers(0, 256, size=shape + (3,), dtype=np.uint8)
    for resize in ("bilinear", "area", "nearest"):
        ours = edgeinfer.preprocess(frame, size=size, resize=resize, **IMAGENET)
        ref = reference.preprocess(frame, size=size, resize=resize, **IMAGENET)
        assert_match(ours, ref, scale=1 / 57.0)


def opencv_pipeline(frame, size, interpolation, input_bgr=True):
    """The five-step pipeline users write by hand, on float input."""
    resized = cv2.resize(frame.astype(np.float32), (size[1], size[0]), interpolation=interpolation)
    rgb = resized[:, :, ::-1] if input_bgr else resized
    normalised = (rgb - np.float32(edgeinfer.IMAGENET_MEAN)) / np.float32(edgeinfer.IMAGENET_STD)
    return normalised.transpose(2, 0, 1)[None]


@pytest.mark.parametrize("shape,size", [((480, 640), (224, 224)), ((1080, 1920), (224, 224)),
                                        ((100, 80), (224, 224)), ((33, 17), (5, 9)),
                                        ((300, 451), (299, 299))])
@pytest.mark.parametrize("resize,interpolation", [("bilinear", cv2.INTER_LINEAR),
                                                  ("area", cv2.INTER_AREA)])
def test_matches_opencv_on_float_input(shape, size, resize, interpolation, rng):
    shrinking = shape[0] >= size[0] and shape[1] >= size[1]
    enlarging = shape[0] <= size[0] and shape[1] <= size[1]
    if resize == "area" and not (shrinking or enlarging):
        pytest.skip("OpenCV INTER_AREA approximates when one side shrinks and the other grows")
    frame = rng.integers(0, 256, size=shape + (3,), dtype=np.uint8)
    expected = opencv_pipeline(frame, size, interpolation)
    for fn in (edgeinfer.preprocess, reference.preprocess):
        got = fn(frame, size=size, resize=resize, **IMAGENET)
        assert np.abs(got - expected).max() <= 0.02


def test_real_photo_matches_opencv():
    from edgeinfer.media import SAMPLE_IMAGE, read_image

    frame = read_image(SAMPLE_IMAGE)
    got = edgeinfer.preprocess(frame, **IMAGENET)
    assert np.abs(got - opencv_pipeline(frame, (224, 224), cv2.INTER_LINEAR)).max() <= 0.02


def test_gray_matches_opencv_luma(rng):
    frame = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    got = edgeinfer.preprocess(frame, size=(60, 80), color="gray")
    expected = cv2.cvtColor(frame.astype(np.float32), cv2.COLOR_BGR2GRAY)
    np.testing.assert_allclose(got[0, 0], expected, atol=1e-3)


def test_channel_order(rng):
    frame = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    rgb = edgeinfer.preprocess(frame, size=(8, 8), color="rgb", layout="nhwc")[0]
    bgr = edgeinfer.preprocess(frame, size=(8, 8), color="bgr", layout="nhwc")[0]
    np.testing.assert_array_equal(bgr, frame.astype(np.float32))  # same size: an exact copy
    np.testing.assert_array_equal(rgb, frame[:, :, ::-1].astype(np.float32))
    from_rgb = edgeinfer.preprocess(frame, size=(8, 8), input_color="rgb", layout="nhwc")[0]
    np.testing.assert_array_equal(from_rgb, frame.astype(np.float32))


def test_alpha_is_ignored(rng):
    frame = rng.integers(0, 256, size=(20, 30, 4), dtype=np.uint8)
    with_alpha = edgeinfer.preprocess(frame, size=(10, 12))
    without = edgeinfer.preprocess(np.ascontiguousarray(frame[:, :, :3]), size=(10, 12))
    np.testing.assert_array_equal(with_alpha, without)


def test_nhwc_is_nchw_transposed(rng):
    frame = rng.integers(0, 256, size=(50, 70, 3), dtype=np.uint8)
    nchw = edgeinfer.preprocess(frame, size=(31, 29), **IMAGENET)
    nhwc = edgeinfer.preprocess(frame, size=(31, 29), layout="nhwc", **IMAGENET)
    np.testing.assert_allclose(nchw.transpose(0, 2, 3, 1), nhwc, rtol=0, atol=1e-5)


def test_imagenet_centre_crop_region():
    # resize the shorter side to 256, centre-crop 224: the central 420x420 of a 640x480 frame
    plan = plan_frame((480, 640, 3), size=224, crop=0.875)
    assert plan.region == (30, 110, 420, 420)


def test_centre_crop_equals_explicit_box(rng):
    frame = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    np.testing.assert_array_equal(edgeinfer.preprocess(frame, crop=0.875),
                                  edgeinfer.preprocess(frame, crop=(110, 30, 420, 420)))


def test_letterbox_pads_and_keeps_aspect(rng):
    frame = rng.integers(0, 256, size=(100, 200, 3), dtype=np.uint8)
    out = edgeinfer.preprocess(frame, size=(100, 100), crop="letterbox", pad=114, layout="nhwc")[0]
    assert np.all(out[:25] == 114) and np.all(out[75:] == 114)
    inner = edgeinfer.preprocess(frame, size=(50, 100), layout="nhwc")[0]
    np.testing.assert_array_equal(out[25:75], inner)


def test_uint8_output_for_quantised_models(rng):
    frame = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    out = edgeinfer.preprocess(frame, size=(32, 32), dtype="uint8", layout="nhwc", resize="nearest")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[0], frame[1::2, 1::2, ::-1])


def test_out_buffer_is_filled_in_place(rng):
    frame = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    out = np.full((1, 3, 16, 16), np.nan, dtype=np.float32)
    result = edgeinfer.preprocess(frame, size=16, out=out, **IMAGENET)
    assert result is out
    np.testing.assert_allclose(out, reference.preprocess(frame, size=16, **IMAGENET), atol=1e-4)


@pytest.mark.parametrize("frame,kwargs,message", [
    (np.zeros((10, 10, 3), np.float32), {}, "uint8"),
    (np.zeros((10, 10, 2), np.uint8), {}, "HxWx3"),
    (np.zeros((0, 10, 3), np.uint8), {}, "empty"),
    (np.zeros((10, 10, 3), np.uint8), {"std": (1, 0, 1)}, "std must be positive"),
    (np.zeros((10, 10, 3), np.uint8), {"std": (1, 2)}, "std needs 1 or 3"),
    (np.zeros((10, 10, 3), np.uint8), {"size": (0, 5)}, "size must be positive"),
    (np.zeros((10, 10, 3), np.uint8), {"resize": "cubic"}, "resize must be one of"),
    (np.zeros((10, 10, 3), np.uint8), {"layout": "chw"}, "layout must be one of"),
    (np.zeros((10, 10, 3), np.uint8), {"input_color": "bgra"}, "needs 4 channels"),
    (np.zeros((10, 10, 3), np.uint8), {"crop": (5, 5, 10, 10)}, "does not lie inside"),
    (np.zeros((10, 10, 3), np.uint8), {"crop": 1.5}, "fraction must be in"),
    (np.zeros((10, 10, 3), np.uint8), {"crop": "middle"}, "not a crop mode"),
    (np.zeros((10, 10, 3), np.uint8), {"dtype": "uint8", "mean": 3}, "leave mean and std"),
    (np.zeros((10, 10, 3), np.uint8), {"out": np.zeros((1, 3, 5, 5), np.float32)}, "out must be"),
    ([[1, 2]], {}, "numpy uint8 frame"),
])
def test_bad_input_raises_value_error(frame, kwargs, message):
    for fn in (edgeinfer.preprocess, reference.preprocess):
        with pytest.raises(ValueError, match=message):
            fn(frame, **kwargs)


@pytest.mark.parametrize("n_in,n_out", [(640, 224), (1920, 224), (480, 224), (100, 224), (17, 9),
                                        (451, 299), (7, 3), (3, 7)])
def test_nearest_picks_the_pixels_opencv_and_pil_pick(n_in, n_out):
    """Same pixels as OpenCV INTER_NEAREST_EXACT and PIL NEAREST, except where
    a centre lies exactly on a pixel boundary: there each rounds its own way."""
    from PIL import Image

    ramp = np.arange(n_in, dtype=np.float32)[None, :].repeat(2, 0)
    opencv = cv2.resize(ramp, (n_out, 2), interpolation=cv2.INTER_NEAREST_EXACT)[0]
    pil = np.asarray(Image.fromarray(ramp).resize((n_out, 2), Image.NEAREST))[0]
    on_boundary = (2 * np.arange(n_out) + 1) * n_in % (2 * n_out) == 0
    frame = np.broadcast_to(np.arange(n_in).astype(np.uint16), (2, n_in))
    frame = np.stack([(frame % 256), frame // 256, frame * 0], axis=-1).astype(np.uint8)
    for fn in (edgeinfer.preprocess, reference.preprocess):
        picked = fn(frame, size=(2, n_out), resize="nearest", input_color="rgb", layout="nhwc")
        picked = picked[0, 0, :, 0] + 256 * picked[0, 0, :, 1]
        for other in (opencv, pil):
            assert np.all(picked[~on_boundary] == other[~on_boundary])
            assert np.all(np.abs(picked - other)[on_boundary] <= 1)
