# kimage: `make demo` and `make test` each set up .venv from scratch on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO   := build/demo

.PHONY: demo test test-setup test-setup-system test-setup-suites specs corpus lint clean venv bench fuzz loader-truth

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

# `make test`'s set-up, in two lanes that run side by side (make -j2; about 2 minutes on a
# fresh clone instead of 4.5 one after the other): the machine's own apt (test-setup-system)
# and the private apt configurations of Debian 13 and unstable (test-setup-suites); then
# the UKI and FIT corpus, which needs both. Every step is guarded: what it cannot provide
# is skipped by the tests that need it, saying why.
test-setup-system: $(BIN)/python
	$(PIP) install -e '.[test]'
	@# the pinned Kaitai compiler, for the test that the generated parsers are fresh
	[ -d tools/node_modules/kaitai-struct-compiler ] || npm ci --prefix tools --no-audit --no-fund --loglevel=error
	@# kexec-tools (arm64, ppc64el) under qemu-user for the fast loader-truth subset;
	@# needs root and Debian's archive, else those tests are skipped with the reason
	sh loadertruth/install.sh kexec || echo "make test: kexec-tools not installed; the real-loader subset will be skipped" >&2
	@# Debian 12's kexec-tools:amd64 (under qemu-x86_64) for the x86 bzImage subset
	sh loadertruth/install.sh x86 || echo "make test: kexec-tools:amd64 not unpacked; the x86 subset will be skipped" >&2
	@# Debian 12's arm64 and ppc64el linux-image packages (fetched into build/deb) for
	@# tests/test_deb_real.py and the UKIs and FITs
	$(BIN)/python -c 'from tests.test_deb_real import _download; _download("arm64"); _download("ppc64el")' || \
		echo "make test: Debian's kernel packages not fetched; their tests will be skipped" >&2
	@# rpmbuild, rpm2cpio and cpio for the RPM subset (corpus/rpm/make.sh builds its packages),
	@# bsdtar (makepkg's archiver) for the Arch Linux subset (corpus/archpkg/make.sh)
	command -v rpmbuild >/dev/null && command -v cpio >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -q rpm cpio >/dev/null 2>&1 || echo "make test: rpm not installed; the RPM subset will be skipped" >&2
	command -v bsdtar >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -q libarchive-tools >/dev/null 2>&1 || echo "make test: bsdtar not installed; the Arch Linux package subset will be skipped" >&2

test-setup-suites:
	@# Debian 13's and unstable's kexec-tools:arm64 (2.0.29, 2.0.32) for the versioned subset
	for s in trixie unstable; do sh loadertruth/install.sh suite $$s || echo "make test: kexec-tools of $$s not unpacked; its subset will be skipped" >&2; done
	@# unstable's split kernel packages (linux-binary-V, linux-base-V) for tests/test_deb_layouts.py
	python3 corpus/deb/fetch_unstable_split.py || echo "make test: unstable's split kernel packages not fetched; their test will be skipped" >&2
	@# Debian 13's arm64 kernel and busybox-static for the kdump guest's one rerun (15 s)
	sh loadertruth/install.sh kdump-guest || echo "make test: kdump guest not unpacked; its rerun will be skipped" >&2
	@# Debian 13's mkbootimg (boot and vendor_boot v4) for the Android corpus tests
	sh loadertruth/install.sh mkbootimg || echo "make test: Debian 13's mkbootimg not unpacked; the v4 Android tests will be skipped" >&2
	@# unstable's kexec-tools:riscv64 (2.0.32, under qemu-riscv64) for the riscv64 subset
	sh loadertruth/install.sh riscv || echo "make test: kexec-tools:riscv64 not unpacked; the riscv64 subset will be skipped" >&2

test-setup: test-setup-system test-setup-suites
	@# UKIs (Debian 13's ukify and stub, unpacked) and FITs (mkimage) from Debian 12's arm64
	@# linux-image package and the committed tiny kernels
	sh corpus/uki/make.sh && sh corpus/fit/make.sh || \
		echo "make test: UKI/FIT corpus not built; its tests will be skipped" >&2

test: $(BIN)/python
	$(MAKE) --no-print-directory -j2 --output-sync=line test-setup
	$(BIN)/ruff check .
	@# the second release of a real-loader pair (marked loader_truth) runs in make loader-truth
	$(BIN)/python -m pytest -m 'not loader_truth'

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

# Every atheris harness for FUZZ_SECONDS (default 60) on seed corpora from `kimage fuzz`,
# then the property tests with examples drawn afresh (make test draws the same ones on
# every run: tests/conftest.py's Hypothesis profiles).
FUZZ_SECONDS ?= 60
PROPERTY_TESTS = $(shell grep -l '^from hypothesis\|^import hypothesis' tests/test_*.py)
fuzz: $(BIN)/python
	$(PIP) install -e '.[test,fuzz]'
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run_local.sh
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q -m 'not loader_truth' $(PROPERTY_TESTS)

# The real loaders (kexec-tools under qemu-user; U-Boot, EDK2 and QEMU's -kernel under
# qemu-system) on one-field variants of real kernels; needs root for apt-get.
# LOADERS: a subset, or more: efi (half an hour), grub (Debian's signed GRUB under that
# EDK2, about as long), kexec-file-kernel and
# kexec-file-kernel-crash (the kernel's kexec_file_load in a guest; building the two
# guest kernels takes about 15 minutes once). KDUMP_GUEST=1: also a real kexec -p and
# panic in Debian 13's arm64 kernel per recorded crashkernel= size (loadertruth/kdump_guest.py).
LOADERS ?= kexec-tools,kexec-tools-file,kexec-tools-crash,u-boot,qemu
# SUITE_LOADERS: what runs again with Debian 13's and unstable's loaders; efi there runs
# each suite's EDK2, grub its GRUB under that EDK2 (half an hour each).
SUITE_LOADERS ?= kexec-tools,kexec-tools-crash,u-boot,qemu
KDUMP_GUEST ?= 0
loader-truth: $(BIN)/python
	$(PIP) install -e '.[test]'
	sh loadertruth/install.sh
	case ",$(LOADERS)," in *,kexec-file-kernel*) sh loadertruth/install.sh kexec-file ;; esac
	$(BIN)/python -m loadertruth.variants --out build/loadertruth/variants
	$(BIN)/python -m loadertruth.run --images build/loadertruth/variants \
		--out build/loadertruth/results.json --loaders $(LOADERS) --jobs 2 --quiet
	$(BIN)/python -m loadertruth.table build/loadertruth/results.json
	@# kexec-tools, U-Boot, QEMU (and EDK2) of Debian 13 and unstable beside Debian 12's (no root)
	for s in trixie unstable; do sh loadertruth/install.sh suite $$s && \
		LOADERTRUTH_SUITE=$$s $(BIN)/python -m loadertruth.run --images build/loadertruth/variants \
		--out build/loadertruth/results-$$s.json --loaders $(SUITE_LOADERS) --jobs 2 --quiet; done
	$(BIN)/python -m loadertruth.compare --json build/loadertruth/agreement.json \
		--results build/loadertruth/results.json $$(ls build/loadertruth/results-*.json 2>/dev/null)
	@# the tests of tests/ marked loader_truth: the second release of a real-loader pair
	@# (make test runs one release of each), e.g. Debian 12's U-Boot 2023.01 on riscv64
	sh loadertruth/install.sh riscv || echo "loader-truth: riscv64 loaders not unpacked; their tests will be skipped" >&2
	$(BIN)/python -m pytest -m loader_truth
	@# KDUMP_GUEST=1: rerun every size of loadertruth/kdump-guest-results.json (kexec -p
	@# and a panic in Debian 13's arm64 kernel under qemu, about 15 minutes)
	if [ "$(KDUMP_GUEST)" = 1 ]; then \
		if sh loadertruth/install.sh kdump-guest; then $(BIN)/python -m loadertruth.kdump_guest \
			--check loadertruth/kdump-guest-results.json; \
		else echo "loader-truth: kdump guest not installed; skipped" >&2; fi; fi

clean:
	rm -rf build .pytest_cache .hypothesis
