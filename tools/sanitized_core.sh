#!/usr/bin/env bash
# The compiled core built with AddressSanitizer and UndefinedBehaviorSanitizer,
# apart from the normal in-place build: the package, csrc/, the tests and the
# tools are copied (modification times kept, so a rebuild is incremental) into
# build/sanitize and built in place there.
#
#   tools/sanitized_core.sh build          copy and build
#   tools/sanitized_core.sh run CMD...     run CMD in build/sanitize under the
#                                          sanitizer runtime; a report fails it
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
case "$PYTHON" in /*) ;; *) PYTHON=$(command -v "$PYTHON" || echo "$PWD/$PYTHON") ;; esac
DEST=build/sanitize
SANITIZERS=address,undefined

build() {
    mkdir -p "$DEST"
    # the in-place normal core must not be copied: it would look up to date
    tar -c --exclude='*.so' --exclude=__pycache__ --exclude='.hypothesis' \
        edgeinfer csrc tests tools setup.py pyproject.toml README.md | tar -x -C "$DEST"
    (cd "$DEST" && EDGEINFER_SANITIZE=$SANITIZERS "$PYTHON" setup.py -q build_ext --inplace)
    # for the fuzz job: atheris' coverage past libasan (tests/fuzz/coverage_forward.c)
    core=$("$PYTHON" -c 'import atheris, glob, os
print(glob.glob(os.path.join(os.path.dirname(atheris.__file__), "core_with_libfuzzer*.so"))[0])' \
        2>/dev/null) || { rm -f "$DEST/coverage_forward.so"; return 0; }
    cc -shared -fPIC -O2 -Wall -Werror -DATHERIS_CORE="\"$core\"" \
        tests/fuzz/coverage_forward.c -o "$DEST/coverage_forward.so"
}

run() {
    # A Python extension cannot bring the ASan runtime itself: it has to be
    # loaded before anything else in the process
    cc=$("$PYTHON" -c 'import sysconfig; print((sysconfig.get_config_var("CC") or "cc").split()[0])')
    asan=$("$cc" -print-file-name=libasan.so)
    # preloaded too, so that ASan finds the real __cxa_throw when atheris turns a
    # Python exception into a C++ one
    cxx=$("$cc" -print-file-name=libstdc++.so)
    cd "$DEST"
    forward=$([ -f coverage_forward.so ] && echo "$PWD/coverage_forward.so" || true)
    # Python itself leaks by design; UBSan halts at its first report. ASan
    # allows the coverage forwarder ahead of it (it defines nothing ASan wraps)
    LD_PRELOAD="$forward $asan $cxx" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:verify_asan_link_order=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    PYTHONPATH="$PWD" \
        "$@"
}

case "${1:-}" in
    build) build ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 build | run CMD..." >&2; exit 2 ;;
esac
