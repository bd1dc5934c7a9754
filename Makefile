# kimage: `make demo` and `make test` each set up .venv from scratch on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO   := build/demo

.PHONY: demo test specs corpus lint clean venv bench fuzz loader-truth

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

venv: $(BIN)/python

# The bundled corpus, read by the validator: synthetic headers and the real-kernel
# excerpts materialised as sparse files of their original size.
demo: $(BIN)/python
	$(PIP) install -e .
	$(BIN)/python corpus/materialise.py --out $(DEMO)
	@echo "== real kernels (excerpts of Debian packages, see corpus/real/*/PROVENANCE.md)"
	@$(BIN)/kimage inspect $(DEMO)/* || true
	@echo "== synthetic headers: an arm64 6.1-style Image and a ppc64le head"
	@$(BIN)/kimage inspect corpus/synthetic/arm64/v5.8-4k-le-anywhere-efi.img \
		corpus/synthetic/ppc64/vmlinux-fixup_endian_long-le-run0.elf

test: $(BIN)/python
	$(PIP) install -e '.[test]'
	@# the pinned Kaitai compiler, for the test that the generated parsers are fresh
	[ -d tools/node_modules/kaitai-struct-compiler ] || npm ci --prefix tools --no-audit --no-fund --loglevel=error
	@# kexec-tools (arm64, ppc64el) under qemu-user for the fast loader-truth subset;
	@# needs root and Debian's archive, else those tests are skipped with the reason
	sh loadertruth/install.sh kexec || echo "make test: kexec-tools not installed; the real-loader subset will be skipped" >&2
	@# Debian 13's and unstable's kexec-tools:arm64 (2.0.29, 2.0.32) for the versioned subset
	for s in trixie unstable; do sh loadertruth/install.sh suite $$s || echo "make test: kexec-tools of $$s not unpacked; its subset will be skipped" >&2; done
	@# Debian 12's kexec-tools:amd64 (under qemu-x86_64) for the x86 bzImage subset
	sh loadertruth/install.sh x86 || echo "make test: kexec-tools:amd64 not unpacked; the x86 subset will be skipped" >&2
	@# Debian 13's mkbootimg (boot and vendor_boot v4) for the Android corpus tests
	sh loadertruth/install.sh mkbootimg || echo "make test: Debian 13's mkbootimg not unpacked; the v4 Android tests will be skipped" >&2
	$(BIN)/python -m pytest

# Regenerate validator/_kaitai from specs/ with the pinned compiler (tools/).
specs:
	tools/compile-specs.sh validator/_kaitai

corpus: $(BIN)/python
	$(PIP) install -e .
	$(BIN)/python corpus/make_synthetic.py

lint: $(BIN)/python
	$(PIP) install -e '.[test]'
	$(BIN)/ruff check .

# Benchmarks against file(1) and a struct.unpack floor; writes bench/results.json (about
# 10 minutes). BENCH_ARGS: e.g. --quick, --only coldstart, --revisions ab5347d,HEAD
BENCH_ARGS ?=
bench: $(BIN)/python
	$(PIP) install -e .
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Every atheris harness for FUZZ_SECONDS (default 60) on seed corpora from `kimage fuzz`.
FUZZ_SECONDS ?= 60
fuzz: $(BIN)/python
	$(PIP) install -e '.[fuzz]'
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run_local.sh

# The real loaders (kexec-tools under qemu-user; U-Boot, EDK2 and QEMU's -kernel under
# qemu-system) on one-field variants of real kernels; needs root for apt-get.
# LOADERS: a subset, or more: efi (half an hour), kexec-file-kernel and
# kexec-file-kernel-crash (the kernel's kexec_file_load in a guest; building the two
# guest kernels takes about 15 minutes once).
LOADERS ?= kexec-tools,kexec-tools-file,kexec-tools-crash,u-boot,qemu
loader-truth: $(BIN)/python
	$(PIP) install -e .
	sh loadertruth/install.sh
	case ",$(LOADERS)," in *,kexec-file-kernel*) sh loadertruth/install.sh kexec-file ;; esac
	$(BIN)/python -m loadertruth.variants --out build/loadertruth/variants
	$(BIN)/python -m loadertruth.run --images build/loadertruth/variants \
		--out build/loadertruth/results.json --loaders $(LOADERS) --jobs 2 --quiet
	$(BIN)/python -m loadertruth.table build/loadertruth/results.json
	@# kexec-tools, U-Boot and QEMU of Debian 13 and unstable beside Debian 12's (no root)
	for s in trixie unstable; do sh loadertruth/install.sh suite $$s && \
		LOADERTRUTH_SUITE=$$s $(BIN)/python -m loadertruth.run --images build/loadertruth/variants \
		--out build/loadertruth/results-$$s.json --loaders kexec-tools,kexec-tools-crash,u-boot,qemu --jobs 2 --quiet; done
	$(BIN)/python -m loadertruth.compare --json build/loadertruth/agreement.json \
		--results build/loadertruth/results.json $$(ls build/loadertruth/results-*.json 2>/dev/null)

clean:
	rm -rf build .pytest_cache .hypothesis
