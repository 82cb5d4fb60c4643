from libc.stdint cimport int8_t, int16_t, int32_t

cdef extern from "qconv_nhwc.h":
    int EI_QCONV_NHWC_LANES
    void ei_qconv1x1_nhwc_pack(int m, int k, const int8_t *w, const int32_t *bias, int x_zero,
                               const float *multiplier, int8_t *w8, int16_t *w16,
                               int32_t *folded, float *multipliers) nogil
    int ei_qconv1x1_nhwc(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                         const uint8_t *x, const int8_t *w8, const int16_t *w16,
                         const int32_t *folded, const float *multipliers, int y_zero, int lo,
                         int hi, uint8_t *y) nogil

cdef extern from "u8_transpose.h":
    void ei_u8_transpose(long rows, long cols, const uint8_t *x, uint8_t *y) nogil

cdef extern from "qdwconv_nhwc.h":
    int ei_qdwconv_nhwc(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                        int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                        const int8_t *w, const int32_t *bias, const float *multiplier,
                        int y_zero, int lo, int hi, uint8_t *y, ei_simd_level level) nogil
    int ei_qdwconv_nhwc_allow_vnni(int allow)
    long ei_qdwconv_nhwc_packed_words(int c, int kh, int kw)
    void ei_qdwconv_nhwc_pack(int c, int kh, int kw, const int8_t *w, const int32_t *bias,
                              const float *multiplier, int16_t *packed) nogil
    int ei_qdwconv_nhwc_packed(int c, int in_h, int in_w, int kh, int kw, int stride,
                               int pad_top, int pad_left, int out_h, int out_w,
                               const uint8_t *x, int x_zero, const int16_t *packed, int y_zero,
                               int lo, int hi, uint8_t *y, ei_simd_level level) nogil


def qdwconv_nhwc_allow_vnni(allow):
    """Whether qdwconv_nhwc's AVX-512 unit may use VNNI (else pmaddwd): for tests."""
    ei_qdwconv_nhwc_allow_vnni(1 if allow else 0)


def qconv1x1_nhwc_pack(const int8_t[:, ::1] w, const int32_t[::1] bias, int x_zero,
                       const float[::1] multiplier):
    """(w8, w16, folded, multipliers, m, k): w (m, k) readied once for
    qconv1x1_nhwc (output channels padded to whole vectors)."""
    import numpy as np
    m, k = w.shape[0], w.shape[1]
    mp = -(-m // EI_QCONV_NHWC_LANES) * EI_QCONV_NHWC_LANES
    k4 = (k + 3) // 4
    if multiplier.shape[0] != m or (bias is not None and bias.shape[0] != m):
        raise ValueError(f"qconv1x1_nhwc_pack: bias and multiplier must have {m} values")
    w8 = np.empty((k4, mp, 4), np.int8)
    w16 = np.empty((2 * k4, mp, 2), np.int16)
    folded = np.empty(mp, np.int32)
    multipliers = np.empty(mp, np.float32)
    cdef int8_t[:, :, ::1] w8v = w8
    cdef int16_t[:, :, ::1] w16v = w16
    cdef int32_t[::1] fv = folded
    cdef float[::1] mv = multipliers
    cdef const int32_t *b = NULL
    if bias is not None:
        b = &bias[0]
    ei_qconv1x1_nhwc_pack(m, k, &w[0, 0], b, x_zero, &multiplier[0], &w8v[0, 0, 0],
                          &w16v[0, 0, 0], &fv[0], &mv[0])
    return w8, w16, folded, multipliers, m, k


def qconv1x1_nhwc(const uint8_t[:, :, ::1] x, packed, int y_zero, int lo, int hi, int stride,
                  uint8_t[:, :, ::1] out):
    """out (oh, ow, m) uint8 = requantised 1x1 convolution of x (h, w, k)
    uint8 with weights from qconv1x1_nhwc_pack."""
    cdef const int8_t[:, :, ::1] w8 = packed[0]
    cdef const int16_t[:, :, ::1] w16 = packed[1]
    cdef const int32_t[::1] folded = packed[2]
    cdef const float[::1] multipliers = packed[3]
    cdef int m = packed[4], k = packed[5]
    mp = -(-m // EI_QCONV_NHWC_LANES) * EI_QCONV_NHWC_LANES
    if w8.shape[0] != (k + 3) // 4 or w8.shape[1] != mp or w16.shape[0] != 2 * w8.shape[0] or \
            w16.shape[1] != mp or folded.shape[0] != mp or multipliers.shape[0] != mp:
        raise ValueError("qconv1x1_nhwc: the packed weights do not fit together")
    if x.shape[2] != k or out.shape[2] != m or stride < 1 or \
            out.shape[0] != (x.shape[0] + stride - 1) // stride or \
            out.shape[1] != (x.shape[1] + stride - 1) // stride:
        raise ValueError(f"qconv1x1_nhwc: out must be (ceil(h / {stride}), ceil(w / {stride}), "
                         f"{m}) for x (h, w, {k}), got x ({x.shape[0]}, {x.shape[1]}, {x.shape[2]}), "
                         f"out ({out.shape[0]}, {out.shape[1]}, {out.shape[2]})")
    with nogil:
        ei_qconv1x1_nhwc(m, k, x.shape[0], x.shape[1], stride, out.shape[0], out.shape[1],
                         &x[0, 0, 0], &w8[0, 0, 0], &w16[0, 0, 0], &folded[0], &multipliers[0],
                         y_zero, lo, hi, &out[0, 0, 0])


def qdwconv_nhwc_pack(const int8_t[:, :, ::1] w, const int32_t[::1] bias,
                      const float[::1] multiplier):
    """(packed, c, kh, kw): w (c, kh, kw) int8 and its requantisation, for qdwconv_nhwc_packed."""
    import numpy as np
    cdef const int32_t *b = NULL
    cdef int16_t[::1] packed
    c, kh, kw = w.shape[0], w.shape[1], w.shape[2]
    if c < 1 or kh < 1 or kw < 1 or multiplier.shape[0] != c or \
            (bias is not None and bias.shape[0] != c):
        raise ValueError(f"qdwconv_nhwc: an empty filter, or multiplier and bias not of {c} "
                         "channels")
    if kh > 2 ** 30 or kw > 2 ** 30 or kh * kw > QDWCONV_MAX_TAPS:
        raise ValueError(f"qdwconv_nhwc: a {kh}x{kw} filter has more than "
                         f"{QDWCONV_MAX_TAPS} taps")
    if bias is not None:
        b = &bias[0]
    result = np.empty(ei_qdwconv_nhwc_packed_words(c, kh, kw), np.int16)
    packed = result
    ei_qdwconv_nhwc_pack(c, kh, kw, &w[0, 0, 0], b, &multiplier[0], &packed[0])
    return result, c, kh, kw


def qdwconv_nhwc_packed(const uint8_t[:, :, ::1] x, int x_zero, tuple packed, int y_zero,
                        int lo, int hi, int stride, int pad_top, int pad_left,
                        uint8_t[:, :, ::1] out):
    """out (oh, ow, c) uint8 = requantised depthwise convolution of x (h, w, c)
    uint8 with the filter of qdwconv_nhwc_pack: qdwconv channels-last."""
    cdef const int16_t[::1] words
    cdef int status, c, kh, kw
    cdef ei_simd_level level
    array, c, kh, kw = packed
    words = array
    if x.shape[2] != c or out.shape[2] != c:
        raise ValueError(f"qdwconv_nhwc: x, w, out, multiplier and bias must all have {c} "
                         "channels")
    if words.shape[0] != ei_qdwconv_nhwc_packed_words(c, kh, kw):
        raise ValueError("qdwconv_nhwc: the packed filter is not one of qdwconv_nhwc_pack's")
    if stride < 1 or pad_top < 0 or pad_left < 0 or out.shape[0] < 1 or out.shape[1] < 1:
        raise ValueError("qdwconv_nhwc: the filter, stride, output and pads must not be empty "
                         "or negative")
    if (out.shape[0] - 1) * stride + kh > 2 ** 30 or \
            (out.shape[1] - 1) * stride + kw > 2 ** 30:
        raise ValueError("qdwconv_nhwc: the output, stride and filter span more than 2^30 rows "
                         "or columns")
    level = ei_simd_active()
    with nogil:
        status = ei_qdwconv_nhwc_packed(c, x.shape[0], x.shape[1], kh, kw, stride, pad_top,
                                        pad_left, out.shape[0], out.shape[1], &x[0, 0, 0],
                                        x_zero, &words[0], y_zero, lo, hi, &out[0, 0, 0], level)
    if status != 0:
        raise MemoryError("qdwconv_nhwc: no memory for the channel tile")


def u8_transpose(const uint8_t[:, ::1] x, uint8_t[:, ::1] out):
    """out (cols, rows) = x (rows, cols) transposed: an image's (C, H*W) planes
    into (H*W, C) pixels, or back."""
    if out.shape[0] != x.shape[1] or out.shape[1] != x.shape[0]:
        raise ValueError(f"u8_transpose: out must be ({x.shape[1]}, {x.shape[0]}), got "
                         f"({out.shape[0]}, {out.shape[1]})")
    if x.shape[0] and x.shape[1]:
        with nogil:
            ei_u8_transpose(x.shape[0], x.shape[1], &x[0, 0], &out[0, 0])
