"""Waiting out one runtime's spinning threads before timing another in the
same process. onnxruntime's workers keep spinning for about 50 ms after a run
returns (measured at two threads on the 2-core Xeon: 54 ms of CPU in the
60 ms after a run of EfficientNet-Lite0; the native pool's spin is 50 us),
so a native run started in that time shares its second core with them: in
blocks of five runs led by one uncounted run, native's two-thread time read
1.4-1.6x onnxruntime's right after onnxruntime's turn, 1.03x after a pause."""
import time


def wait_for_idle_cores(timeout=0.25, window=0.005, busy=0.1):
    """Returns once this process, all its threads together, has used less
    than `busy` of a core over a `window` of wall time, or after `timeout`
    seconds; the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        cpu = time.process_time()
        time.sleep(window)
        if time.process_time() - cpu < busy * window:
            break
    return time.perf_counter() - start
