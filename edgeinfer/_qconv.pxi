from libc.stdint cimport int8_t, int32_t

cdef extern from "qconv.h":
    int ei_qconv_vnni(int mode)
    int ei_qconv1x1(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                    const uint8_t *x, int x_zero, const int8_t *w, const int32_t *bias,
                    const float *multiplier, int y_zero, int lo, int hi, uint8_t *y) nogil


def qconv_vnni(int mode):
    """Which VNNI instructions the x86 integer kernels use: -1 the best this
    CPU has, 0 none, 1 AVX-VNNI, 2 AVX-512 VNNI."""
    if ei_qconv_vnni(mode) != 0:
        raise ValueError(f"this CPU has no VNNI mode {mode}")


def qconv1x1(const uint8_t[:, :, ::1] x, int x_zero, const int8_t[:, ::1] w,
             const int32_t[::1] bias, const float[::1] multiplier, int y_zero, int lo, int hi,
             int stride, uint8_t[:, :, ::1] out):
    """out (m, oh, ow) uint8 = requantised 1x1 convolution of x (k, h, w)
    uint8 with w (m, k) int8; shapes checked by edgeinfer.kernels.qconv1x1."""
    cdef const int32_t *b = NULL
    cdef int status
    if bias is not None:
        b = &bias[0]
    with nogil:
        status = ei_qconv1x1(w.shape[0], w.shape[1], x.shape[1], x.shape[2], stride,
                             out.shape[1], out.shape[2], &x[0, 0, 0], x_zero, &w[0, 0], b,
                             &multiplier[0], y_zero, lo, hi, &out[0, 0, 0])
    if status != 0:
        raise MemoryError("qconv1x1: no memory for the packed activations")
