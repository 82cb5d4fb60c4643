"""tools/idle_cores.py: a benchmark waits out one runtime's spinning threads
before it times another in the same process."""
import threading
import time

from tools.idle_cores import wait_for_idle_cores


def test_an_idle_process_waits_one_window():
    assert wait_for_idle_cores(timeout=1.0) < 0.1


def test_a_spinning_thread_is_waited_out():
    """A thread that spins for 60 ms, as onnxruntime's workers do after a run:
    the wait lasts until it stops, not past the timeout."""
    def spin(until):
        while time.perf_counter() < until:
            pass

    spinner = threading.Thread(target=spin, args=(time.perf_counter() + 0.06,))
    spinner.start()
    # windows of 20 ms: the spinner keeps most of one even on a loaded machine
    waited = wait_for_idle_cores(timeout=1.0, window=0.02)
    spinner.join()
    assert 0.04 <= waited < 0.5


def test_a_thread_that_never_stops_is_given_up_on_at_the_timeout():
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        assert 0.2 <= wait_for_idle_cores(timeout=0.2, window=0.02) < 0.5
    finally:
        stop.set()
        spinner.join()
