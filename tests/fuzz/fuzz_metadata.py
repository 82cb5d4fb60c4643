"""Fuzzes the reader of a model file's edgeinfer metadata (the JSON document
under metadata_props "edgeinfer"). Clean errors: MetadataError, which
edgeinfer.load turns into a one-line ModelError."""
from harness import fuzz, instrumented

with instrumented(__name__):
    import onnx
    from edgeinfer.metadata import MetadataError, read_info

CLEAN_ERRORS = (MetadataError,)


def one_input(data):
    model = onnx.ModelProto()
    entry = model.metadata_props.add()
    entry.key = "edgeinfer"
    entry.value = data.decode("utf-8", errors="replace")
    info = read_info(model, origin="fuzzed.onnx")
    if info.image is not None:
        info.image.preprocess_kwargs()
    info.to_json()


if __name__ == "__main__":
    fuzz(one_input, CLEAN_ERRORS)
