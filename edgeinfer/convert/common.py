"""What every converter shares: the ONNX opset it writes, and how it tells the
user what it decided."""
import sys

DEFAULT_OPSET = 17


def say(message):
    """Progress and decisions the user should know about, on stderr so that
    stdout stays clean for scripts."""
    print(f"edgeinfer convert: {message}", file=sys.stderr)
