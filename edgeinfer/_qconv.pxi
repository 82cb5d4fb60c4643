from libc.stdint cimport int8_t, int16_t, int32_t

cdef extern from "qconv.h":
    int ei_qconv_vnni(int mode)
    int ei_qconv_force_layout(int layout)
    int ei_qconv1x1(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                    const uint8_t *x, int x_zero, const int8_t *w, const int32_t *bias,
                    const float *multiplier, int y_zero, int lo, int hi, uint8_t *y) nogil
    void ei_qconv1x1_pack(int m, int k, const int8_t *w, const int32_t *bias, int x_zero,
                          int8_t *w8, int16_t *w16, int32_t *folded) nogil
    int ei_qconv1x1_packed(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                           const uint8_t *x, const int8_t *w8, const int16_t *w16,
                           const int32_t *folded, const float *multiplier, int y_zero, int lo,
                           int hi, uint8_t *y) nogil


def qconv_vnni(int mode):
    """Which VNNI instructions the x86 integer kernels use: -1 the best this
    CPU has, 0 none, 1 AVX-VNNI, 2 AVX-512 VNNI."""
    if ei_qconv_vnni(mode) != 0:
        raise ValueError(f"this CPU has no VNNI mode {mode}")


def qconv_force_layout(name):
    """Compute every later qconv1x1 call in "planes" (None: the default) or
    "nhwc": transposed through the channels-last kernel. For tests."""
    ei_qconv_force_layout(("planes", "nhwc").index(name or "planes"))


def qconv1x1(const uint8_t[:, :, ::1] x, int x_zero, const int8_t[:, ::1] w,
             const int32_t[::1] bias, const float[::1] multiplier, int y_zero, int lo, int hi,
             int stride, uint8_t[:, :, ::1] out):
    """out (m, oh, ow) uint8 = requantised 1x1 convolution of x (k, h, w)
    uint8 with w (m, k) int8; shapes checked by edgeinfer.kernels.qconv1x1."""
    cdef const int32_t *b = NULL
    cdef int status
    m = w.shape[0]
    if x.shape[0] != w.shape[1] or out.shape[0] != m or multiplier.shape[0] != m or \
            (bias is not None and bias.shape[0] != m):
        raise ValueError("qconv1x1: x, out, multiplier or bias do not fit w")
    if stride < 1 or out.shape[1] != (x.shape[1] + stride - 1) // stride or \
            out.shape[2] != (x.shape[2] + stride - 1) // stride:
        raise ValueError("qconv1x1: out does not have the shape the stride gives")
    if bias is not None:
        b = &bias[0]
    with nogil:
        status = ei_qconv1x1(w.shape[0], w.shape[1], x.shape[1], x.shape[2], stride,
                             out.shape[1], out.shape[2], &x[0, 0, 0], x_zero, &w[0, 0], b,
                             &multiplier[0], y_zero, lo, hi, &out[0, 0, 0])
    if status != 0:
        raise MemoryError("qconv1x1: no memory for the packed activations")


def qconv1x1_pack(const int8_t[:, ::1] w, const int32_t[::1] bias, int x_zero):
    """(w8, w16, folded, k): w (m, k) readied once for qconv1x1_packed."""
    import numpy as np
    m, k = w.shape[0], w.shape[1]
    k4 = (k + 3) // 4
    w8 = np.empty((m, 4 * k4), np.int8)
    w16 = np.empty((m, 4 * k4), np.int16)
    folded = np.empty(m, np.int32)
    cdef int8_t[:, ::1] w8v = w8
    cdef int16_t[:, ::1] w16v = w16
    cdef int32_t[::1] fv = folded
    cdef const int32_t *b = NULL
    if bias is not None:
        if bias.shape[0] != m:
            raise ValueError(f"qconv1x1_pack: bias has {bias.shape[0]} values for {m} filters")
        b = &bias[0]
    ei_qconv1x1_pack(m, k, &w[0, 0], b, x_zero, &w8v[0, 0], &w16v[0, 0], &fv[0])
    return w8, w16, folded, k


def qconv1x1_packed(const uint8_t[:, :, ::1] x, packed, const float[::1] multiplier, int y_zero,
                    int lo, int hi, int stride, uint8_t[:, :, ::1] out):
    """qconv1x1 with weights from qconv1x1_pack; x has the packed k channels."""
    cdef const int8_t[:, ::1] w8 = packed[0]
    cdef const int16_t[:, ::1] w16 = packed[1]
    cdef const int32_t[::1] folded = packed[2]
    cdef int k = packed[3], status
    m = w8.shape[0]
    if x.shape[0] != k or out.shape[0] != m or multiplier.shape[0] != m or \
            w16.shape[0] != m or folded.shape[0] != m or w8.shape[1] != 4 * ((k + 3) // 4) or \
            w16.shape[1] != w8.shape[1]:
        raise ValueError("qconv1x1_packed: x, out or multiplier do not fit the packed weights")
    if stride < 1 or out.shape[1] != (x.shape[1] + stride - 1) // stride or \
            out.shape[2] != (x.shape[2] + stride - 1) // stride:
        raise ValueError(f"qconv1x1_packed: out must be ({m}, ceil(h / {stride}), "
                         f"ceil(w / {stride})) for x ({x.shape[0]}, {x.shape[1]}, {x.shape[2]}), "
                         f"got ({out.shape[0]}, {out.shape[1]}, {out.shape[2]})")
    with nogil:
        status = ei_qconv1x1_packed(w8.shape[0], k, x.shape[1], x.shape[2], stride,
                                    out.shape[1], out.shape[2], &x[0, 0, 0], &w8[0, 0],
                                    &w16[0, 0], &folded[0], &multiplier[0], y_zero, lo, hi,
                                    &out[0, 0, 0])
    if status != 0:
        raise MemoryError("qconv1x1: no memory for the packed activations")
