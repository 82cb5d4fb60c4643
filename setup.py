"""Build of edgeinfer's compiled core: the C99 kernels in csrc/ behind one thin
Cython module, edgeinfer._core.

Build-time switches (environment variables):
  EDGEINFER_NO_THREADS=1     build without threads (every kernel then runs on one)
  EDGEINFER_EXTRA_CFLAGS=... extra compiler flags, e.g. "-mcpu=native" for a
                             build tuned to the machine it runs on, or
                             "-mfpu=neon-vfpv4" on 32-bit ARM boards with NEON
  EDGEINFER_DEBUG=1          -O0 -g, for debuggers
  EDGEINFER_SANITIZE=address,undefined
                             a sanitizer build (-fsanitize=..., -O1 -g, frame
                             pointers, UBSan reports abort): for `make sanitize`
                             and `make fuzz`, which build it apart in
                             build/sanitize and leave the in-place core alone

The default build is portable: no -march=native. Wider x86 vector units
(AVX2+FMA, AVX-512) are chosen at run time; NEON is always on for aarch64.
"""
import os
import platform
import shlex
import sys
from glob import glob

from setuptools import Extension, setup

CSRC = "csrc"
# csrc/ is split by job (kernels/, conv/, platform/); each folder is an include
# directory, so a source names a header by its file name alone
CSRC_DIRS = sorted(glob(os.path.join(CSRC, "*", "")))


def thread_flags():
    """The kernels share a step between threads through the core's own pool of pthreads
    (csrc/platform/thread_pool.c); EDGEINFER_NO_THREADS builds it to run every step on
    the calling thread."""
    if os.environ.get("EDGEINFER_NO_THREADS", "") not in ("", "0"):
        return ["-DEI_NO_THREADS"] if sys.platform != "win32" else ["/DEI_NO_THREADS"]
    return [] if sys.platform == "win32" else ["-pthread"]


def atomic_link_flags():
    """-latomic on 32-bit ARM: the pool's 64-bit task shares are libatomic calls there
    wherever the compiler targets armv6 (Raspberry Pi OS's 32-bit default, even on a
    Pi 4), and without the library the core would fail to import."""
    is_32_bit = sys.maxsize < 2**32
    is_x86 = platform.machine().lower() in ("i386", "i486", "i586", "i686", "x86", "x86_64", "amd64")
    return ["-latomic"] if is_32_bit and not is_x86 and sys.platform != "win32" else []


def sanitizer_flags():
    """Compile and link flags for EDGEINFER_SANITIZE (e.g. "address,undefined")."""
    wanted = os.environ.get("EDGEINFER_SANITIZE", "")
    if not wanted or sys.platform == "win32":
        return []
    flags = [f"-fsanitize={wanted}", "-fno-omit-frame-pointer"]
    if "undefined" in wanted.split(","):
        # a UBSan report must fail the run, not scroll past
        flags.append("-fno-sanitize-recover=undefined")
    return flags


def optimisation_flags():
    if os.environ.get("EDGEINFER_SANITIZE"):
        return ["-O1", "-g"]   # fast enough for the kernel tests, still exact line numbers
    return ["-O0", "-g"] if os.environ.get("EDGEINFER_DEBUG") else ["-O3"]


def compile_flags():
    if sys.platform == "win32":
        return ["/O2"]
    flags = optimisation_flags()
    # vectorised loops may reorder nothing that changes results; only contraction to FMA
    flags += ["-ffp-contract=fast", "-fno-math-errno", "-Wall", "-Wno-unused-function"]
    return flags + shlex.split(os.environ.get("EDGEINFER_EXTRA_CFLAGS", ""))


def core_extension():
    from Cython.Build import cythonize

    threads = thread_flags()
    ext = Extension(
        "edgeinfer._core",
        sources=["edgeinfer/_core.pyx"] + sorted(glob(os.path.join(CSRC, "*", "*.c"))),
        include_dirs=CSRC_DIRS,
        extra_compile_args=compile_flags() + sanitizer_flags() + threads,
        extra_link_args=sanitizer_flags() + threads + atomic_link_flags(),
        depends=sorted(glob(os.path.join(CSRC, "*", "*.h")) + glob("edgeinfer/*.pxi")),
    )
    return cythonize([ext], compiler_directives={"language_level": 3}, include_path=["edgeinfer"])


setup(ext_modules=core_extension())
