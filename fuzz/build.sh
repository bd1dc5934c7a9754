#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script (base-builder-python): install kimage, bundle
# each fuzz/*_fuzzer.py with PyInstaller, and ship a seed corpus and a dictionary per
# harness. Runs in $SRC/kimage (see fuzz/Dockerfile).
cd "$SRC/kimage"
pip3 install '.[fuzz]'

for fuzzer in fuzz/*_fuzzer.py; do
    name=$(basename "$fuzzer" .py)
    # The rule and loader modules are imported by name (importlib), so PyInstaller is told
    # to collect the whole package; fuzzlib sits beside the harnesses.
    compile_python_fuzzer "$fuzzer" --paths fuzz --collect-submodules validator
    cp fuzz/kimage.dict "$OUT/$name.dict"
done

# Seed corpora from kimage's own structure-aware generator (deterministic).
seed() {  # seed HARNESS FORMAT...
    harness=$1; shift
    dir=$(mktemp -d)
    for format in "$@"; do
        python3 -m validator fuzz --format "$format" --count 100 --seed oss-fuzz \
            --out "$dir/$format"
    done
    find "$dir" -name '*.bin' -print0 | xargs -0 zip -qj "$OUT/${harness}_seed_corpus.zip"
    rm -rf "$dir"
}
seed arm64_parse_fuzzer arm64-image efi-stub
seed ppc64_parse_fuzzer ppc64-head
seed layers_fuzzer zboot gzip xz lzma bzip2 zstd lz4 uimage android-boot elf
seed check_fuzzer all arm64-image ppc64-elf
