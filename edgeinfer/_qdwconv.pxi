from libc.stdint cimport int8_t, int32_t

cdef extern from "qdwconv.h":
    int EI_QDWCONV_MAX_TAPS
    int ei_qdwconv(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                   int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                   const int8_t *w, const int32_t *bias, const float *multiplier, int y_zero,
                   int lo, int hi, uint8_t *y) nogil
    int ei_qdwconv_force_layout(int layout)

QDWCONV_MAX_TAPS = EI_QDWCONV_MAX_TAPS
QDWCONV_LAYOUTS = ("planes", "channels_last", "nhwc")


def qdwconv_force_layout(name):
    """Compute every later qdwconv in one layout ("planes", "channels_last"
    blocks, or "nhwc": transposed through qdwconv_nhwc); None: chosen by the
    map's width. For tests and benchmarks."""
    ei_qdwconv_force_layout(-1 if name is None else QDWCONV_LAYOUTS.index(name))


def qdwconv(const uint8_t[:, :, ::1] x, int x_zero, const int8_t[:, :, ::1] w,
            const int32_t[::1] bias, const float[::1] multiplier, int y_zero, int lo, int hi,
            int stride, int pad_top, int pad_left, uint8_t[:, :, ::1] out):
    """out (c, oh, ow) uint8 = requantised depthwise convolution of x (c, h, w)
    uint8 with w (c, kh, kw) int8; shapes checked by edgeinfer.kernels.qdwconv."""
    cdef const int32_t *b = NULL
    cdef int status
    # C reads bias, multiplier and out for every channel and row: a mismatch
    # here would read or write past an array, so it never gets there
    c = x.shape[0]
    if w.shape[0] != c or out.shape[0] != c or multiplier.shape[0] != c or \
            (bias is not None and bias.shape[0] != c):
        raise ValueError(f"qdwconv: x, w, out, multiplier and bias must all have {c} channels")
    if c < 1 or w.shape[1] < 1 or w.shape[2] < 1 or stride < 1 or pad_top < 0 or \
            pad_left < 0 or out.shape[1] < 1 or out.shape[2] < 1:
        raise ValueError("qdwconv: the filter, stride, output and pads must not be empty or "
                         "negative")
    # the padded rows and columns the taps span are C ints
    if (out.shape[1] - 1) * stride + w.shape[1] > 2 ** 30 or \
            (out.shape[2] - 1) * stride + w.shape[2] > 2 ** 30:
        raise ValueError("qdwconv: the output, stride and filter span more than 2^30 rows or "
                         "columns")
    if bias is not None:
        b = &bias[0]
    with nogil:
        status = ei_qdwconv(x.shape[0], x.shape[1], x.shape[2], w.shape[1], w.shape[2], stride,
                            pad_top, pad_left, out.shape[1], out.shape[2], &x[0, 0, 0], x_zero,
                            &w[0, 0, 0], b, &multiplier[0], y_zero, lo, hi, &out[0, 0, 0])
    if status == -2:
        raise ValueError(f"qdwconv: a {w.shape[1]}x{w.shape[2]} filter has more than "
                         f"{QDWCONV_MAX_TAPS} taps")
    if status != 0:
        raise MemoryError("qdwconv: no memory for the padded channel")
