"""The thread pool (csrc/platform/thread_pool.c) built the way a Raspberry Pi
builds it — aarch64, armv7 with and without NEON — and as plain C and with
clang, and once more under ThreadSanitizer where the compiler has it: the C
driver tests/c/thread_pool_main.c checks that every task of a step runs
exactly once, that the caller takes tasks itself, that a step stays within
its thread count, that each thread starts on its own share of the tasks,
that a step of no tasks runs nothing, that a step of more tasks than a
share counts runs them all, and that steps
started from inside a task or from four threads at once still run all their
tasks, with workers that spin between steps and with workers that sleep."""
import os
import shutil
import subprocess

import pytest

from cross_builds import BUILDS, CSRC, INCLUDES, ROOT, build_driver

SOURCES = ["platform/thread_pool.c"]


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_every_task_runs_once_on_the_threads_given(build, tmp_path):
    binary = build_driver(build, "thread_pool_main.c", SOURCES, tmp_path)
    run = subprocess.run(binary, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr


def _thread_sanitizer_builds(tmp_path):
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    cmd = ["cc", "-fsanitize=thread", str(probe), "-o", str(tmp_path / "probe")]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        return False
    return subprocess.run([str(tmp_path / "probe")], capture_output=True).returncode == 0


def test_the_pool_has_no_data_race_under_thread_sanitizer(tmp_path):
    if shutil.which("cc") is None or not _thread_sanitizer_builds(tmp_path):
        pytest.skip("the C compiler has no working ThreadSanitizer here")
    out = str(tmp_path / "thread_pool_tsan")
    subprocess.run(["cc", "-std=c99", "-O1", "-g", "-fsanitize=thread", "-Wall", "-Wextra", "-Werror"]
                   + INCLUDES + [os.path.join(ROOT, "tests", "c", "thread_pool_main.c"),
                                 os.path.join(CSRC, "platform", "thread_pool.c"), "-pthread",
                                 "-o", out], check=True, capture_output=True, text=True)
    run = subprocess.run([out], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TSAN_OPTIONS="halt_on_error=1 exitcode=66"))
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr


ARMV6_SYSROOT = "/usr/arm-linux-gnueabihf"


def test_the_pool_runs_on_armv6_where_its_64_bit_shares_need_libatomic(tmp_path):
    """Raspberry Pi OS's 32-bit gcc targets armv6, where a 64-bit atomic is a
    libatomic call: built without the library the core failed to import
    (undefined __atomic_load_8). Built as setup.py builds it there (-latomic),
    the driver runs."""
    libatomic = os.path.join(ARMV6_SYSROOT, "lib", "libatomic.so.1")
    for tool in ("arm-linux-gnueabihf-gcc", "qemu-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if not os.path.exists(libatomic):
        pytest.skip(f"{libatomic} is not installed")
    out = str(tmp_path / "thread_pool_armv6")
    subprocess.run(["arm-linux-gnueabihf-gcc", "-std=c99", "-O2", "-march=armv6+fp", "-marm",
                    "-Wall", "-Wextra", "-Werror"] + INCLUDES
                   + [os.path.join(ROOT, "tests", "c", "thread_pool_main.c"),
                      os.path.join(CSRC, "platform", "thread_pool.c"), "-pthread", libatomic,
                      "-o", out], check=True, capture_output=True, text=True)
    run = subprocess.run(["qemu-arm", "-L", ARMV6_SYSROOT, out], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr
