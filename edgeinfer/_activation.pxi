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


cdef class ActivationCall:
    """activation(kind, x, out, alpha, beta) with its arrays fixed when built,
    for the native planner's steps (see Conv2dCall); out may be x."""
    cdef object arrays
    cdef int kind
    cdef size_t n
    cdef float alpha, beta
    cdef const float *x
    cdef float *y

    def __init__(self, int kind, const float[::1] x, float[::1] out, float alpha=0.0,
                 float beta=0.0):
        if x.shape[0] != out.shape[0]:
            raise ValueError("activation: input and output sizes differ")
        if not 0 <= kind < len(ACTIVATIONS):
            raise ValueError(f"activation: unknown kind {kind}")
        self.kind, self.n, self.alpha, self.beta = kind, x.shape[0], alpha, beta
        self.x = &x[0] if x.shape[0] else NULL
        self.y = &out[0] if out.shape[0] else NULL
        self.arrays = (x, out)

    def __call__(self):
        if self.n == 0:
            return
        with nogil:
            ei_activation(self.kind, self.n, self.x, self.y, self.alpha, self.beta)
