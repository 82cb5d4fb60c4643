"""One JSON object per classified frame, a line each, flushed as written."""
import json

from .files import close_file, open_for_lines, write_line


class JsonLinesSink:
    def __init__(self, path):
        self.path = path
        self.file = open_for_lines(path, "JSON lines")

    def write(self, result):
        line = json.dumps(result.to_dict(), ensure_ascii=False) + "\n"
        return write_line(self.file, self.path, line)

    def close(self):
        close_file(self.file)
