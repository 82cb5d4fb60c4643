"""edgeinfer.filter2d (C) against edgeinfer.reference.filter2d (numpy),
cv2.filter2D and scipy.ndimage.correlate, over drawn images, kernels and
borders, under every SIMD level and thread count (tests/kernel_check.py)."""
import cv2
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import ndimage

import edgeinfer
from edgeinfer import reference
from kernel_check import Case, KernelCheck

CV2_BORDERS = {"reflect101": cv2.BORDER_REFLECT_101, "replicate": cv2.BORDER_REPLICATE,
               "constant": cv2.BORDER_CONSTANT}
SCIPY_MODES = {"reflect101": "mirror", "replicate": "nearest", "constant": "constant"}


@st.composite
def images(draw, max_side=40):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    channels = draw(st.sampled_from([0, 1, 3, 4]))  # 0: a 2-D image
    dtype = draw(st.sampled_from([np.uint8, np.float32]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (h + 4, 2 * w + 4) + ((channels,) if channels else ())
    if dtype == np.uint8:
        big = rng.integers(0, 256, size=shape, dtype=np.uint8)
    else:
        big = (rng.standard_normal(shape) * 50).astype(np.float32)
    view = draw(st.sampled_from(["contiguous", "crop", "flip", "step"]))
    if view == "contiguous":
        return np.ascontiguousarray(big[2:2 + h, 2:2 + w])
    if view == "crop":
        return big[2:2 + h, 2:2 + w]
    if view == "flip":
        return big[2 + h - 1:1:-1, 2:2 + w]
    return big[2:2 + h, 2:2 + 2 * w:2]


@st.composite
def kernels(draw):
    preset = draw(st.sampled_from([None] + list(edgeinfer.FILTER_KERNELS)))
    if preset is not None:
        return preset
    kh = draw(st.integers(1, 7))
    kw = draw(st.integers(1, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return (rng.standard_normal((kh, kw)) / (kh * kw)).astype(np.float32)


def kernel_array(kernel):
    return edgeinfer.FILTER_KERNELS[kernel] if isinstance(kernel, str) else kernel


def assert_match(ours, expected, image):
    assert ours.shape == image.shape and ours.dtype == image.dtype
    if image.dtype == np.uint8:
        # float sums in another order may round across a .5 boundary
        assert np.abs(ours.astype(int) - expected.astype(int)).max() <= 1
        assert np.mean(ours == expected) > 0.95
    else:
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-3)


FILTER2D = KernelCheck(edgeinfer.filter2d, reference.filter2d,
                       compare=lambda ours, expected, case: assert_match(ours, expected,
                                                                         case.args[0]))


def filter_cases(max_side=40):
    return st.builds(lambda image, kernel, border: Case((image, kernel, border)),
                     images(max_side), kernels(), st.sampled_from(list(CV2_BORDERS)))


test_c_matches_reference = FILTER2D.property(filter_cases())
# wider rows, so every vector width's full steps and tails occur
test_larger_images_match_reference = FILTER2D.property(filter_cases(max_side=70),
                                                       max_examples=20)


def equals(expected):
    return lambda ours, _: np.testing.assert_array_equal(ours, expected)


RAMP_U8 = np.array([[1, 3, 5, 250]], np.uint8)
SMALL_IMAGE = np.arange(6, dtype=np.float32).reshape(2, 3)
WIDE_KERNEL = np.arange(35, dtype=np.float32).reshape(5, 7) / 35
GRAY = np.random.default_rng(3).integers(0, 256, (20, 30), dtype=np.uint8)
REGRESSIONS = {
    # halving: 0.5, 1.5, 2.5, 125 round to 0, 2, 2, 125 (half to even, as cvRound)
    "uint8_rounds_half_to_even": Case((RAMP_U8, [[0.5]]), then=equals([[0, 2, 2, 125]])),
    "uint8_saturates_high": Case((RAMP_U8, [[2.0]]), then=equals([[2, 6, 10, 255]])),
    "uint8_saturates_low": Case((RAMP_U8, [[-1.0]]), then=equals([[0, 0, 0, 0]])),
    # filter2d refused gray.T: the buffer of a contiguous array reports a
    # made-up stride for its length-one channel axis
    "transposed_grey_image": Case((GRAY.T, "sharpen"), then=lambda ours, expected:
                                  np.testing.assert_array_equal(ours, expected)),
    # a 5x7 kernel over a 2x3 image reflects (or replicates) again and again
    **{f"kernel_larger_than_image_{border}": Case(
        (SMALL_IMAGE, WIDE_KERNEL, border),
        then=lambda ours, _, border=border: np.testing.assert_allclose(
            ours, cv2.filter2D(SMALL_IMAGE, -1, WIDE_KERNEL, borderType=CV2_BORDERS[border]),
            atol=1e-4))
       for border in CV2_BORDERS},
    # a frame large enough to be split between threads
    "threads_split_a_vga_frame": Case((np.random.default_rng(1).integers(
        0, 256, (480, 640, 3), dtype=np.uint8), "sharpen")),
}
test_regressions = FILTER2D.regression_test(REGRESSIONS)


@given(images(), kernels(), st.sampled_from(list(CV2_BORDERS)))
def test_c_matches_opencv(image, kernel, border):
    k = kernel_array(kernel)
    expected = cv2.filter2D(image, -1, k, borderType=CV2_BORDERS[border])
    if image.ndim == 3 and image.shape[2] == 1:
        expected = expected.reshape(image.shape)
    assert_match(edgeinfer.filter2d(image, kernel, border), expected, image)


@settings(max_examples=30)
@given(images(), kernels(), st.sampled_from(list(CV2_BORDERS)))
def test_float_matches_scipy_correlate(image, kernel, border):
    image = image.astype(np.float32)
    k = kernel_array(kernel)
    if image.ndim == 3:
        k = k[:, :, None]
    # scipy centres even-sized kernels like OpenCV: the anchor is size // 2
    expected = ndimage.correlate(image.astype(np.float64), k.astype(np.float64),
                                 mode=SCIPY_MODES[border], cval=0.0)
    np.testing.assert_allclose(edgeinfer.filter2d(image, kernel, border), expected,
                               rtol=1e-5, atol=1e-3)


def test_real_photo_presets_match_opencv():
    from edgeinfer.media import SAMPLE_IMAGE, read_image

    photo = read_image(SAMPLE_IMAGE)
    for name, kernel in edgeinfer.FILTER_KERNELS.items():
        ours = edgeinfer.filter2d(photo, name)
        expected = cv2.filter2D(photo, -1, kernel)
        assert np.abs(ours.astype(int) - expected).max() <= 1, name


def test_gaussian_presets_are_opencv_gaussian_blur():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (31, 45), dtype=np.uint8).astype(np.float32)
    for size in (3, 5):
        np.testing.assert_allclose(edgeinfer.filter2d(image, f"gaussian{size}"),
                                   cv2.GaussianBlur(image, (size, size), 0), atol=1e-4)


@pytest.mark.parametrize("image,kernel,kwargs,message", [
    (np.zeros((4, 4), np.float64), "box3", {}, "uint8 or float32 images, got float64"),
    (np.zeros((4, 4, 3, 1), np.uint8), "box3", {}, r"HxW or HxWxC image, got shape \(4, 4, 3, 1\)"),
    (np.zeros((0, 4), np.uint8), "box3", {}, "non-empty"),
    (np.zeros((4, 4), np.uint8), "blur", {}, "unknown filter 'blur'"),
    (np.zeros((4, 4), np.uint8), np.ones(3), {}, r"2-D array, got shape \(3,\)"),
    (np.zeros((4, 4), np.uint8), "box3", {"border": "wrap"}, "border must be one of"),
    ([[1, 2]], "box3", {}, "numpy uint8 or float32 image"),
])
def test_bad_arguments_raise_value_error(image, kernel, kwargs, message):
    for fn in (edgeinfer.filter2d, reference.filter2d):
        with pytest.raises(ValueError, match=message):
            fn(image, kernel, **kwargs)
