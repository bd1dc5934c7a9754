#!/bin/sh
# Run every atheris harness in fuzz/ for a bounded time on this machine (`make fuzz`).
#
#   fuzz/run_local.sh [SECONDS_PER_HARNESS]       (default: $FUZZ_SECONDS or 60)
#
# Each harness gets a seed corpus written by `kimage fuzz` (build/fuzz/<name>/seeds),
# keeps what libFuzzer learns in build/fuzz/<name>/corpus, and writes a crashing input
# to build/fuzz/<name>/crash-*. Without atheris the harnesses fall back to a plain-Python
# driver (seed corpus + AFL-style mutations). Exit status: 0 when no harness crashed.
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER="${1:-${FUZZ_SECONDS:-60}}"
PYTHON="${PYTHON:-.venv/bin/python}"
OUT="${FUZZ_OUT:-build/fuzz}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

seeds() {  # seeds NAME FORMAT... : a seed corpus per harness, generated once
    dir="$OUT/$1/seeds"; shift
    [ -f "$dir/manifest.json" ] && return 0
    mkdir -p "$dir"
    for format in "$@"; do
        "$PYTHON" -m validator fuzz --format "$format" --count 40 --seed local --out "$dir" \
            2>/dev/null || echo "run_local: no seeds for $format" >&2
        [ -f "$dir/manifest.json" ] && mv "$dir/manifest.json" "$dir/manifest-$format.json.txt"
    done
    touch "$dir/manifest.json"
}

status=0
for harness in arm64_parse ppc64_parse layers check; do
    case "$harness" in
        arm64_parse) seeds "$harness" arm64-image efi-stub ;;
        ppc64_parse) seeds "$harness" ppc64-head ;;
        layers) seeds "$harness" zboot gzip xz lzma bzip2 zstd lz4 uimage android-boot elf deb \
            rpm archpkg ;;
        check) seeds "$harness" all arm64-image ppc64-elf ;;
    esac
    mkdir -p "$OUT/$harness/corpus"
    echo "== $harness: ${SECONDS_PER} s" >&2
    if "$PYTHON" "fuzz/${harness}_fuzzer.py" -max_total_time="$SECONDS_PER" -timeout=10 \
            -rss_limit_mb=2048 -dict=fuzz/kimage.dict -artifact_prefix="$OUT/$harness/" \
            "$OUT/$harness/corpus" "$OUT/$harness/seeds" 2>"$OUT/$harness/log.txt"; then
        tail -n 2 "$OUT/$harness/log.txt" >&2
    else
        status=1
        tail -n 30 "$OUT/$harness/log.txt" >&2
        echo "== $harness CRASHED: see $OUT/$harness/" >&2
    fi
done
exit $status
