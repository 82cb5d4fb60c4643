cdef extern from "activation.h":
    int ei_activation(int kind, size_t n, const float *x, float *y, float alpha, float beta) nogil
    void ei_softmax(size_t outer, size_t axis_len, size_t inner, const float *x, float *y) nogil

ACTIVATIONS = ("relu", "clip", "leaky_relu", "sigmoid", "hard_sigmoid", "hard_swish", "tanh",
               "silu")


def activation(int kind, const float[::1] x, float[::1] out, float alpha=0.0, float beta=0.0):
    """out = f(x) elementwise over flat float32 buffers; kind indexes
    ACTIVATIONS. out may be x."""
    cdef int status
    if x.shape[0] != out.shape[0]:
        raise ValueError("activation: input and output sizes differ")
    if x.shape[0] == 0:
        return
    with nogil:
        status = ei_activation(kind, x.shape[0], &x[0], &out[0], alpha, beta)
    if status != 0:
        raise ValueError(f"activation: unknown kind {kind}")


def softmax(const float[:, :, ::1] x, float[:, :, ::1] out):
    """Softmax along axis 1 of an (outer, axis, inner) array; out may be x."""
    if x.shape[0] != out.shape[0] or x.shape[1] != out.shape[1] or x.shape[2] != out.shape[2]:
        raise ValueError("softmax: input and output shapes differ")
    if x.shape[0] * x.shape[1] * x.shape[2] == 0:
        return
    with nogil:
        ei_softmax(x.shape[0], x.shape[1], x.shape[2], &x[0, 0, 0], &out[0, 0, 0])
