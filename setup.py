"""Build of edgeinfer's compiled core: the C99 kernels in csrc/ behind one thin
Cython module, edgeinfer._core.

Build-time switches (environment variables):
  EDGEINFER_NO_OPENMP=1      build without OpenMP (kernels then run on one thread)
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
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from glob import glob

from setuptools import Extension, setup

CSRC = "csrc"
# csrc/ is split by job (kernels/, conv/, platform/); each folder is an include
# directory, so a source names a header by its file name alone
CSRC_DIRS = sorted(glob(os.path.join(CSRC, "*", "")))


def compiler_command():
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shlex.split(cc)


def compiles_with(flags):
    """True when the C compiler accepts `flags` for an OpenMP program."""
    cc = compiler_command()
    if shutil.which(cc[0]) is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
        cmd = cc + flags + [src, "-o", os.path.join(tmp, "probe")]
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def openmp_flags():
    if os.environ.get("EDGEINFER_NO_OPENMP", "") not in ("", "0"):
        return []
    if sys.platform == "win32":
        return ["/openmp"]
    if compiles_with(["-fopenmp"]):
        return ["-fopenmp"]
    print("edgeinfer: the C compiler has no OpenMP; building single-threaded kernels")
    return []


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

    omp = openmp_flags()
    ext = Extension(
        "edgeinfer._core",
        sources=["edgeinfer/_core.pyx"] + sorted(glob(os.path.join(CSRC, "*", "*.c"))),
        include_dirs=CSRC_DIRS,
        extra_compile_args=compile_flags() + sanitizer_flags() + omp,
        extra_link_args=sanitizer_flags() + omp,
        depends=sorted(glob(os.path.join(CSRC, "*", "*.h")) + glob("edgeinfer/*.pxi")),
    )
    return cythonize([ext], compiler_directives={"language_level": 3}, include_path=["edgeinfer"])


setup(ext_modules=core_extension())
