"""Fuzzes edgeinfer.preprocess: frames of every shape and channel count read
through every kind of view, with every option, on each vector unit. Clean
errors: ValueError (bad arguments)."""
import numpy as np

from harness import SIMD_LEVELS, Provider, forced_simd, fuzz, instrumented, strided_view

with instrumented(__name__):
    # the package root is lazy: what is fuzzed is imported here, to be instrumented
    import edgeinfer
    import edgeinfer._core  # noqa: F401
    import edgeinfer.kernels  # noqa: F401
    from edgeinfer.kernels.frame_plan import RESIZE_MODES

CLEAN_ERRORS = (ValueError,)


def one_input(data):
    p = Provider(data)
    h, w = p.int_in(1, 40), p.int_in(1, 40)
    channels = p.pick((0, 1, 3, 4))             # 0: a 2-D grey frame
    shape = (h, w) + ((channels,) if channels else ())
    frame = strided_view(p, shape, np.uint8, np.random.default_rng(p.int_in(0, 99)))
    color = p.pick(("rgb", "bgr", "gray"))
    out_channels = 1 if color == "gray" else 3
    options = dict(size=(p.int_in(0, 48), p.int_in(1, 48)), resize=p.pick(RESIZE_MODES),
                   input_color=p.pick(("bgr", "rgb", "bgra", "rgba", "gray")), color=color,
                   layout=p.pick(("nchw", "nhwc")), dtype=p.pick(("float32", "uint8")))
    if options["dtype"] == "float32":
        options["mean"] = tuple(p.float_in(-300, 300) for _ in range(out_channels))
        options["std"] = tuple(p.float_in(0, 100) for _ in range(out_channels))
    crop = p.pick(("none", "fraction", "box", "letterbox"))
    if crop == "fraction":
        options["crop"] = p.float_in(0, 1)
    elif crop == "box":
        x, y = p.int_in(0, w), p.int_in(0, h)
        options["crop"] = (x, y, p.int_in(0, w - x + 1), p.int_in(0, h - y + 1))
    elif crop == "letterbox":
        options.update(crop="letterbox", pad=p.float_in(0, 255))
    with forced_simd(edgeinfer._core, p.pick(SIMD_LEVELS)):
        out = edgeinfer.preprocess(frame, **options)
    assert out.shape[0] == 1 and out.dtype == np.dtype(options["dtype"]), (out.shape, out.dtype)


if __name__ == "__main__":
    fuzz(one_input, CLEAN_ERRORS)
