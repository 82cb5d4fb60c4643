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
}

run() {
    # A Python extension cannot bring the ASan runtime itself: it has to be
    # loaded before anything else in the process
    cc=$("$PYTHON" -c 'import sysconfig; print((sysconfig.get_config_var("CC") or "cc").split()[0])')
    asan=$("$cc" -print-file-name=libasan.so)
    cd "$DEST"
    # Python itself leaks by design; UBSan halts at its first report
    LD_PRELOAD="$asan" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    PYTHONPATH="$PWD" \
        "$@"
}

case "${1:-}" in
    build) build ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 build | run CMD..." >&2; exit 2 ;;
esac
