"""`edgeinfer serve` as a process of its own, for the tests and benchmarks that
need a server as a user runs it: started on a free port (--port 0), reached
at the address it prints.

    process, url, line = start_serving("-m", "m.onnx", "--video", "clip.mp4")
    ...
    process.send_signal(signal.SIGINT); process.communicate()
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_serving(*args):
    """(the process, its base URL on 127.0.0.1, the line it printed); the
    process's stderr stays a pipe for the caller to read."""
    process = subprocess.Popen([sys.executable, "-m", "edgeinfer", "serve", "--port", "0",
                                *map(str, args)], stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": ROOT})
    line = process.stderr.readline()
    found = re.search(r"http://[^ ]+:(\d+)/", line)
    if not found:
        process.kill()
        raise RuntimeError("edgeinfer serve did not start: " + line + process.stderr.read())
    return process, f"http://127.0.0.1:{found.group(1)}", line


def rss_bytes(pid):
    """A process's resident memory now."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
