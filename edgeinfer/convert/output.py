"""The last steps every converter shares: describe, verify, optionally
quantise, then write one self-contained file, all or nothing."""
import onnx

from ..errors import UserError
from ..metadata import write_info
from ..sinks.output_files import atomic_write
from . import verify as verification
from .common import say, step
from .simplify import fold_constants


def _check_self_contained(model, origin):
    external = [t.name for t in model.graph.initializer
                if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        raise UserError(f"{origin} keeps {len(external)} weights in side files ({external[0]} ...): "
                        "load it with onnx.load(path) (which pulls them in) before converting")


def _check_graph(model, origin):
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as error:
        first = str(error).strip().splitlines()[0]
        raise UserError(f"{origin} does not convert to a valid ONNX graph ({first})") from None


def finish(model, out_path, info, reference=None, samples=(), verify=True,
           source_name="the source model", quantize=None, simplify=True,
           source_quantization=None):
    """Simplifies model, annotates it with info, checks it against reference
    on samples, quantises it if asked, and writes it to out_path. Raises
    before writing anything when any step fails. source_quantization
    ({"bits", "tensors"}) widens the tolerance for a source with integer tensors."""
    _check_self_contained(model, source_name)
    _check_graph(model, source_name)
    if simplify:
        step("folding constants")
        model = fold_constants(model)
    write_info(model, info)
    data = model.SerializeToString()
    candidate = verification.onnx_runner(data)
    if verify and reference is not None:
        step(f"verifying against {source_name} on {len(samples)} inputs")
        report = verification.compare(reference, candidate, samples,
                                      source_quantization=source_quantization)
        info.verification = dict(report, reference=source_name)
        say(f"verified against {source_name}: {verification.summary(report)}")
        verification.check(report, source_name)
    else:
        # still prove the file loads and runs in onnxruntime
        for sample in samples[:1]:
            candidate(sample.tensor)
        say("loads and runs in onnxruntime" + (" (comparison skipped: --no-verify)"
                                                 if verify is False and reference else ""))
        info.verification = dict(passed=None, skipped=not verify,
                                 reference=None if reference is None else source_name)
    write_info(model, info)
    if quantize:
        from .quantize import quantize_int8
        model = quantize_int8(model, info, **quantize)
    data = model.SerializeToString()
    atomic_write(out_path, lambda f: f.write(data))
    say(f"wrote {out_path} ({len(data) / 1e6:.2f} MB)")
    return info
