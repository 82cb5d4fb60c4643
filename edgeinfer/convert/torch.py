"""PyTorch modules and TorchScript files to ONNX.

Exports through the TorchScript-based exporter (torch.onnx.export with
dynamo=False): it takes both nn.Module and ScriptModule, needs no onnxscript,
and into a bytes buffer it writes one self-contained model with no
`.onnx.data` side file."""
import io
import os
import warnings

import numpy as np

from ..errors import UserError
from . import frameworks
from .common import DEFAULT_OPSET, say, step
from .describe import describe
from .output import finish
from .preprocessing import preset
from .verify import image_samples, tensor_samples


def _first_tensor(output):
    if isinstance(output, (tuple, list)):
        return _first_tensor(output[0])
    if isinstance(output, dict):
        return _first_tensor(next(iter(output.values())))
    return output


def export_bytes(module, input_shape, opset=DEFAULT_OPSET):
    torch = frameworks.torch()
    example = torch.zeros(tuple(input_shape), dtype=torch.float32)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notes and tracer warnings are not the user's
        torch.onnx.export(module, (example,), buffer, dynamo=False, opset_version=opset,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                          do_constant_folding=True)
    return buffer.getvalue()


def from_torch(module, out_path, input_shape=(1, 3, 224, 224), labels=None, preprocess=None,
               opset=DEFAULT_OPSET, verify=True, sample_images=(), quantize=None, source=None):
    """Converts module to out_path (ONNX), verified against module itself.

    The module is exported and verified in eval mode (training mode would export
    batch-norm batch statistics and active dropout), then every submodule is
    put back in the mode it had: the caller may be in the middle of training.
    Preprocessing defaults to torchvision's ImageNet convention for image inputs."""
    torch = frameworks.torch()
    if not isinstance(module, torch.nn.Module):
        raise UserError(f"from_torch takes a torch.nn.Module, got {type(module).__name__}")
    if module.training:
        say("exporting in eval mode (the model is in training mode, which would export active "
            "dropout and per-batch batch-norm statistics); it is left in training mode")
    modes = [(part, part.training) for part in module.modules()]
    module.eval()
    try:
        return _convert(torch, module, out_path, input_shape, labels, preprocess, opset,
                        verify, sample_images, quantize, source)
    finally:
        for part, training in modes:
            part.training = training


def _convert(torch, module, out_path, input_shape, labels, preprocess, opset, verify,
             sample_images, quantize, source):
    import onnx

    origin = (source or {}).get("file") or type(module).__name__
    step(f"exporting {origin} with torch.onnx")
    try:
        data = export_bytes(module, input_shape, opset)
    except Exception as error:  # the exporter raises many types; all mean "cannot export"
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"PyTorch could not export {origin} to ONNX ({first}); check that "
                        f"input shape {tuple(input_shape)} is what the model takes") from None
    model = onnx.load_from_string(data)
    source = dict(framework="pytorch", version=torch.__version__,
                  exporter=f"torch.onnx (TorchScript) opset {opset}", **(source or {}))
    height, width = (input_shape[2], input_shape[3]) if len(input_shape) == 4 else (224, 224)
    info = describe(model, origin, labels, preset("imagenet", size=(height, width)), preprocess,
                    source)

    def reference(x):
        with torch.no_grad():
            return _first_tensor(module(torch.from_numpy(np.ascontiguousarray(x)))).numpy()

    samples = (image_samples(info.image, sample_images) if info.image
               else tensor_samples([None, *input_shape[1:]]))
    return finish(model, out_path, info, reference, samples, verify, f"PyTorch {origin}", quantize)


def load_torchscript(path):
    torch = frameworks.torch()
    if not os.path.isfile(path):
        raise UserError(f"model {path} does not exist")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript is deprecated, but users have such files
            return torch.jit.load(path, map_location="cpu")
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"{path} is not a TorchScript file ({first[:160]}); save the model with "
                        "torch.jit.script(model).save(path), or convert a plain module from Python "
                        "with edgeinfer.convert.from_torch") from None


def from_torchscript(path, out_path, **options):
    return from_torch(load_torchscript(path), out_path,
                      source=dict(file=os.path.basename(path), format="torchscript"), **options)
