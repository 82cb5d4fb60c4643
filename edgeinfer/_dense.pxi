cdef extern from "dense.h":
    void ei_dense(int rows, int k, int n, const float *x, const float *w, const float *bias,
                  float *y) nogil


def dense(const float[:, ::1] x, const float[:, ::1] w, const float[::1] bias, float[:, ::1] out):
    """out (rows x n) = x (rows x k) . w (k x n) + bias (n, or None)."""
    cdef const float *b = NULL
    if x.shape[1] != w.shape[0] or out.shape[0] != x.shape[0] or out.shape[1] != w.shape[1]:
        raise ValueError("dense: shapes do not fit together")
    if bias is not None:
        if bias.shape[0] != w.shape[1]:
            raise ValueError("dense: bias length differs from the output columns")
        b = &bias[0]
    if x.shape[0] == 0 or w.shape[1] == 0:
        return
    with nogil:
        ei_dense(x.shape[0], x.shape[1], w.shape[1], &x[0, 0] if x.shape[1] else NULL,
                 &w[0, 0] if w.shape[0] else NULL, b, &out[0, 0])
