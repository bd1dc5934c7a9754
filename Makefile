# kimage: `make demo` and `make test` each set up .venv from scratch on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO   := build/demo

.PHONY: demo test specs corpus lint clean venv

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

clean:
	rm -rf build .pytest_cache .hypothesis
