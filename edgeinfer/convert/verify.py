"""Proof that the numbers survived: the source framework and onnxruntime run
on the same inputs (seeded random frames and real photos, both through the
model's declared preprocessing) and must agree within a tolerance."""
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..media import read_image
from .common import bar

ABS_TOLERANCE = 1e-4    # below float32 noise for a few thousand accumulated products
REL_TOLERANCE = 1e-3    # of the largest reference output, for large logits
# A source with integer weights (TFLite dynamic-range or full-integer quantisation) computes its
# activations in integers too, which the float ONNX graph does not: allow this many quantisation
# steps (1/127 of the range for int8) of the largest output, and still require the clear top-1.
QUANTIZED_STEPS = 4
RANDOM_INPUTS = 4
SEED = 20260


class VerificationError(UserError):
    """The converted model disagrees with its source."""


@dataclass
class Sample:
    name: str
    tensor: np.ndarray      # in the ONNX model's input layout, batch of one


def image_samples(image, paths=(), count=RANDOM_INPUTS, seed=SEED):
    """Seeded random frames of varied shape plus real photos, each through the
    declared preprocessing, so verification sees inputs in the range the model
    will meet at run time."""
    from ..kernels import preprocess

    rng = np.random.default_rng(seed)
    kwargs = image.preprocess_kwargs()
    samples = []
    for i in range(count):
        height, width = rng.integers(48, 400, size=2)
        frame = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        samples.append(Sample(f"random frame {i}", preprocess(frame, **kwargs)))
    for path in paths:
        samples.append(Sample(str(path), preprocess(read_image(str(path)), **kwargs)))
    return samples


def tensor_samples(dims, dtype="float32", count=RANDOM_INPUTS, seed=SEED):
    rng = np.random.default_rng(seed)
    shape = [1] + [d or 1 for d in dims[1:]]
    return [Sample(f"random input {i}", rng.standard_normal(shape).astype(dtype))
            for i in range(count)]


def onnx_runner(model_bytes):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})[0]


def quantized_tolerance(bits):
    """The relative tolerance for a source quantised to `bits`-bit integers:
    QUANTIZED_STEPS steps of a symmetric quantiser, as a fraction of its range."""
    return QUANTIZED_STEPS / (2 ** (bits - 1) - 1)


def compare(reference, candidate, samples, atol=ABS_TOLERANCE, rtol=REL_TOLERANCE,
            source_quantization=None):
    """Runs both on every sample; a report dict with "passed".

    source_quantization: {"bits": 8, "tensors": N} when the source holds
    quantised tensors; the relative tolerance is then scaled to its step."""
    if source_quantization:
        rtol = max(rtol, quantized_tolerance(source_quantization["bits"]))
    max_abs = max_rel = 0.0
    agree = classified = disagree_decisive = 0
    worst = None
    for sample in bar(samples, "verifying", unit="input"):
        want = np.asarray(reference(sample.tensor), dtype=np.float64)
        got = np.asarray(candidate(sample.tensor), dtype=np.float64)
        if want.shape != got.shape:
            raise VerificationError(f"converted model outputs shape {got.shape} but the source "
                                    f"outputs {want.shape} for {sample.name}")
        diff = float(np.abs(want - got).max()) if want.size else 0.0
        scale = float(np.abs(want).max()) if want.size else 0.0
        rel = diff / scale if scale > 0 else diff
        if diff > max_abs:
            max_abs, worst = diff, sample.name
        max_rel = max(max_rel, rel)
        if want.ndim == 2 and want.shape[1] > 1:
            top_want, top_got = want.argmax(1), got.argmax(1)
            agree += int((top_want == top_got).sum())
            classified += len(top_want)
            # a near-tie may flip on rounding alone; only a clear winner must survive
            ordered = np.sort(want, axis=1)
            clear = (ordered[:, -1] - ordered[:, -2]) > 2 * (atol + rtol * scale)
            disagree_decisive += int((clear & (top_want != top_got)).sum())
    limit_ok = max_abs <= atol or max_rel <= rtol
    report = dict(samples=len(samples), max_abs_diff=max_abs, max_rel_diff=max_rel,
                  top1_agreement=agree / classified if classified else None,
                  atol=atol, rtol=rtol, worst_sample=worst,
                  passed=bool(limit_ok and disagree_decisive == 0))
    if source_quantization:
        report["source_quantization"] = dict(source_quantization)
    return report


def summary(report):
    top1 = report.get("top1_agreement")
    text = (f"{report['samples']} inputs: max abs diff {report['max_abs_diff']:.3g}, "
            f"max rel diff {report['max_rel_diff']:.3g}")
    if top1 is not None:
        text += f", top-1 agreement {top1:.0%}"
    quantization = report.get("source_quantization")
    if quantization:
        text += (f" (source has {quantization['tensors']} int{quantization['bits']} tensors: "
                 f"tolerance {QUANTIZED_STEPS} quantisation steps, rel {report['rtol']:.3g}, and "
                 "a clear top-1 must agree)")
    return text


def check(report, source_name):
    if not report["passed"]:
        raise VerificationError(
            f"the converted model disagrees with {source_name} beyond tolerance "
            f"(abs {report['atol']:g} or rel {report['rtol']:g}): {summary(report)}, worst on "
            f"{report['worst_sample']}; no file was written. Report it with the model attached, "
            "or pass --no-verify to write it anyway")
