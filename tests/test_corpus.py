"""Every corpus image is decoded to the facts its manifest gives.

Synthetic images: facts from the generator's parameter table (booting.rst and
head_64.S meanings). Real kernels: facts from independent tools (file, readelf, nm,
od, the package's config), recorded with their evidence in expected.json.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import CORPUS, real_kernels, synthetic_entries
from validator.pipeline import analyse

FORMAT = {"arm64": "arm64-image", "ppc64": "ppc64-head", "x86_64": "x86-bzimage",
          "riscv64": "riscv64-image"}

# The facts a header (plus banner) determines, per architecture.
HEADER_FACTS = {
    "arm64": ("arch", "endianness", "page_size", "placement", "text_offset", "image_size",
              "efi_stub", "kernel_version"),
    "ppc64": ("arch", "endianness", "relocatable", "run_at_load", "kernel_version"),
    "x86_64": ("arch", "endianness", "efi_stub", "relocatable", "kernel_version", "protocol",
               "kernel_64", "kernel_alignment", "pref_address", "init_size"),
    "riscv64": ("arch", "endianness", "text_offset", "image_size", "efi_stub",
                "header_version", "pe_offset", "kernel_version"),
}


@pytest.mark.parametrize("entry", synthetic_entries(), ids=lambda e: e["path"])
def test_synthetic_image(entry):
    result = analyse(CORPUS / entry["path"])
    expected = entry["facts"]
    assert result.format == FORMAT[expected["arch"]]
    assert {k: result.facts.get(k) for k in expected} == expected
    assert result.verdict == "pass", [f.message for f in result.findings]


def test_synthetic_corpus_is_reproducible():
    import subprocess
    import sys
    p = subprocess.run([sys.executable, str(CORPUS / "make_synthetic.py"), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("kernel", real_kernels(), ids=lambda p: p.name)
def test_real_kernel(kernel, real_images):
    expected = json.loads((kernel / "expected.json").read_text())["facts"]
    result = analyse(real_images[kernel.name])
    arch = expected["arch"]
    assert result.format == FORMAT[arch]
    keys = HEADER_FACTS[arch]
    assert {k: result.facts.get(k) for k in keys} == {k: expected[k] for k in keys}
    assert result.verdict == "pass", [f.message for f in result.findings]


def test_there_are_real_kernels_of_both_architectures():
    arches = {json.loads((k / "expected.json").read_text())["facts"]["arch"]
              for k in real_kernels()}
    assert arches >= {"arm64", "ppc64", "x86_64", "riscv64"}
