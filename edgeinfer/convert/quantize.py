"""Static int8 quantisation (QDQ) with onnxruntime, calibrated on real images
through the model's own preprocessing, with a report of what it cost.

U8S8 (uint8 activations, int8 per-channel weights) is the scheme: on x86
onnxruntime runs it through its fast u8s8 integer kernels, while S8S8
activations take a slower path; ARM64 runs both well."""
import glob
import os
import tempfile
import time

import numpy as np

from ..errors import SourceError, UserError
from ..media import read_image
from ..metadata import write_info
from .common import bar, say, step
from .simplify import fold_constants
from .verify import onnx_runner

TIMING_RUNS = 20
# MinMax calibration sets each activation range from these images alone: with fewer, the ranges
# miss values real inputs reach and the int8 model clips them
MIN_CALIBRATION_IMAGES = 20
# below this share of calibration images classified as the float model does, int8 has changed
# the model's answers, not only its scores
MIN_TOP1_AGREEMENT = 0.9


def _caution(message, strict, warnings):
    """A result the user should question: a warning, or with --strict the end
    of the conversion before anything is written."""
    if strict:
        raise UserError(f"{message}; stopping as --strict asks, nothing was written")
    warnings.append(message)
    say(f"warning: {message}")


def calibration_images(folder):
    """The images of a folder, or of a quoted pattern, as `--image` reads them."""
    from ..sources.images import expand

    if not os.path.isdir(folder) and not glob.has_magic(folder):
        raise UserError(f"--calibration {folder} is not a folder: give a folder (or a quoted "
                        "pattern) of representative images (a few dozen is plenty)")
    try:
        return expand([folder])
    except SourceError as error:
        raise UserError(f"--calibration found no images: {error}") from None


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over preprocessed tensors."""

    def __init__(self, name, tensors):
        self.name, self.tensors = name, list(tensors)

    def get_next(self):
        return {self.name: self.tensors.pop(0)} if self.tensors else None

    def rewind(self):
        pass


def _median_ms(run, tensor):
    run(tensor)
    times = []
    for _ in range(TIMING_RUNS):
        start = time.perf_counter()
        run(tensor)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


ACTIVATION_TYPES = {"uint8": "QUInt8", "int8": "QInt8"}


def quantize_int8(model, info, calibration, activations="uint8", strict=False):
    """The int8 twin of model (an onnx.ModelProto carrying info), with
    info.quantization filled in from a comparison on the calibration images.
    activations: "uint8" (U8S8, the default) or "int8" (S8S8). Too few
    calibration images or too low a top-1 agreement is a warning, or with
    strict a UserError."""
    import logging

    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    from ..kernels import preprocess

    if info.image is None:
        raise UserError("--quantize int8 calibrates on images; this model does not take images")
    paths = calibration_images(calibration)
    warnings = []
    if len(paths) < MIN_CALIBRATION_IMAGES:
        _caution(f"only {len(paths)} calibration images in {calibration} (at least "
                 f"{MIN_CALIBRATION_IMAGES} recommended): the int8 activation ranges may miss values "
                 "real inputs reach; add representative images", strict, warnings)
    kwargs = info.image.preprocess_kwargs()
    tensors = [preprocess(read_image(p), **kwargs)
               for p in bar(paths, "reading calibration images")]
    with tempfile.TemporaryDirectory(prefix="edgeinfer-quantize-") as tmp:
        source, target = os.path.join(tmp, "float.onnx"), os.path.join(tmp, "int8.onnx")
        # Q/DQ pairs fuse into integer kernels only where no shape arithmetic sits between
        onnx.save(fold_constants(model), source)
        # its per-initializer clean-up warnings and pre-processing advice would bury the report
        onnxruntime.set_default_logger_severity(3)
        logging.getLogger().setLevel(logging.ERROR)
        step(f"calibrating int8 ranges on {len(paths)} images")
        try:
            quantize_static(source, target, _Reader(info.input_name, tensors),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=getattr(QuantType, ACTIVATION_TYPES[activations]),
                            weight_type=QuantType.QInt8)
        except Exception as error:
            first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
            raise UserError(f"onnxruntime could not quantise the model ({first}); convert "
                            "without --quantize") from None
        quantized = onnx.load(target)
    step("comparing int8 with float")
    float_bytes, int8_bytes = model.SerializeToString(), quantized.SerializeToString()
    run_float, run_int8 = onnx_runner(float_bytes), onnx_runner(int8_bytes)
    float_top = [int(run_float(t).argmax()) for t in tensors]
    int8_scores = [run_int8(t)[0] for t in tensors]
    int8_top = [int(s.argmax()) for s in int8_scores]
    in_top5 = [f in np.argsort(-s)[:5] for f, s in zip(float_top, int8_scores)]
    report = dict(
        scheme=f"static QDQ, {activations} activations, int8 per-channel weights",
        calibration_images=len(paths),
        top1_agreement_with_float=float(np.mean([a == b for a, b in zip(float_top, int8_top)])),
        float_top1_in_int8_top5=float(np.mean(in_top5)),
        float_mb=len(float_bytes) / 1e6, int8_mb=len(int8_bytes) / 1e6,
        float_ms=_median_ms(run_float, tensors[0]), int8_ms=_median_ms(run_int8, tensors[0]))
    say(f"int8: {report['int8_mb']:.2f} MB (float {report['float_mb']:.2f} MB), "
        f"{report['int8_ms']:.2f} ms vs {report['float_ms']:.2f} ms per image here, top-1 agrees "
        f"with float on {report['top1_agreement_with_float']:.0%} of {len(paths)} calibration images")
    if report["top1_agreement_with_float"] < MIN_TOP1_AGREEMENT:
        _caution(f"int8 top-1 agrees with float on only {report['top1_agreement_with_float']:.0%} "
                 f"of the calibration images (below {MIN_TOP1_AGREEMENT:.0%}): the int8 model "
                 "changes answers; calibrate on more representative images or keep the float "
                 "model", strict, warnings)
    report["warnings"] = warnings
    info.quantization = report
    write_info(quantized, info)
    return quantized
