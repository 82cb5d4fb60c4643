"""Folding what exporters leave behind: shape arithmetic on constants,
identities, batch norms beside convolutions. onnxruntime's basic graph
optimisations do it with standard ONNX operators only, so the result runs on
any backend, and a native executor or the int8 quantiser meets Pad -> Conv
instead of ConstantOfShape -> Concat -> Slice -> Pad -> Conv."""
import os
import tempfile


def fold_constants(model):
    """A simplified copy of model (an onnx.ModelProto); the model itself when
    onnxruntime cannot load it, so conversion can still report why."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="edgeinfer-simplify-") as tmp:
        target = os.path.join(tmp, "simplified.onnx")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = target
        options.log_severity_level = 3
        try:
            ort.InferenceSession(model.SerializeToString(), options,
                                 providers=["CPUExecutionProvider"])
            simplified = onnx.load(target)
        except Exception:  # the verification step reports a model that does not load
            return model
    simplified.producer_name, simplified.producer_version = model.producer_name, model.producer_version
    # onnxruntime declares every domain it knows; keep those the graph uses
    used = {node.domain for node in simplified.graph.node} | {""}
    for opset in list(simplified.opset_import):
        if opset.domain not in used and opset.domain != "ai.onnx":
            simplified.opset_import.remove(opset)
    return simplified
