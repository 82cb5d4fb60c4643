"""One JSON object per classified frame or window, a line each, flushed as
written (Result.to_dict: with several models, a result per model)."""
import json

from .files import close_file, open_for_lines, write_line


def json_record(result):
    """A Result as the one-line JSON text `run --json` writes (also what `serve` sends
    and the MQTT payload)."""
    return json.dumps(result.to_dict(), ensure_ascii=False)


class JsonLinesSink:
    def __init__(self, path):
        self.path = path
        self.file = open_for_lines(path, "JSON lines")

    def write(self, item, result):
        if result is None:
            return True
        return write_line(self.file, self.path, json_record(result) + "\n")

    def close(self):
        close_file(self.file)
