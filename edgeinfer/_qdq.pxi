from libc.stddef cimport ptrdiff_t

cdef extern from "qdq.h":
    void ei_quantize_u8(ptrdiff_t n, const float *x, float scale, int zero, uint8_t *y) nogil
    void ei_quantize_u8_nhwc(long channels, long pixels, const float *x, float scale, int zero,
                             uint8_t *y) nogil
    void ei_dequantize_u8(ptrdiff_t n, const uint8_t *x, float scale, int zero, float *y) nogil
    void ei_qadd_u8(ptrdiff_t n, const uint8_t *a, int a_zero, float a_ratio, const uint8_t *b,
                    int b_zero, float b_ratio, int y_zero, uint8_t *y) nogil


def _check_qdq(Py_ssize_t n, Py_ssize_t other, str what, int zero):
    # C reads and writes n values of every array: a shorter one is refused here
    if other != n:
        raise ValueError(f"qdq: {what} has {other} values for {n} inputs")
    if not 0 <= zero <= 255:
        raise ValueError(f"qdq: zero point {zero} is not a uint8 value")


def quantize_u8(const float[::1] x, float scale, int zero, uint8_t[::1] out):
    """out = saturate(round(x / scale) + zero), uint8; flat contiguous arrays."""
    _check_qdq(x.shape[0], out.shape[0], "out", zero)
    if x.shape[0]:
        with nogil:
            ei_quantize_u8(x.shape[0], &x[0], scale, zero, &out[0])


def quantize_u8_nhwc(const float[:, ::1] x, float scale, int zero, uint8_t[:, ::1] out):
    """quantize_u8 of x (channels, pixels) planes into out (pixels, channels)."""
    if out.shape[0] != x.shape[1] or out.shape[1] != x.shape[0]:
        raise ValueError(f"quantize_u8_nhwc: out must be ({x.shape[1]}, {x.shape[0]}), got "
                         f"({out.shape[0]}, {out.shape[1]})")
    _check_qdq(x.shape[0], out.shape[1], "out", zero)
    if x.shape[0] and x.shape[1]:
        with nogil:
            ei_quantize_u8_nhwc(x.shape[0], x.shape[1], &x[0, 0], scale, zero, &out[0, 0])


def dequantize_u8(const uint8_t[::1] x, float scale, int zero, float[::1] out):
    """out = (x - zero) * scale, float32; flat contiguous arrays."""
    _check_qdq(x.shape[0], out.shape[0], "out", zero)
    if x.shape[0]:
        with nogil:
            ei_dequantize_u8(x.shape[0], &x[0], scale, zero, &out[0])


def qadd_u8(const uint8_t[::1] a, int a_zero, float a_ratio, const uint8_t[::1] b, int b_zero,
            float b_ratio, int y_zero, uint8_t[::1] out):
    """out = saturate(round((a - a_zero) a_ratio + (b - b_zero) b_ratio) + y_zero),
    in float64 with the float32 ratios (the products exact, the sum rounded once)."""
    _check_qdq(a.shape[0], out.shape[0], "out", y_zero)
    _check_qdq(a.shape[0], b.shape[0], "b", a_zero)
    _check_qdq(a.shape[0], b.shape[0], "b", b_zero)
    if a.shape[0]:
        with nogil:
            ei_qadd_u8(a.shape[0], &a[0], a_zero, a_ratio, &b[0], b_zero, b_ratio, y_zero,
                       &out[0])
