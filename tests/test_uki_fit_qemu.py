"""QEMU's direct kernel boot (``-kernel``, loadertruth.qemu, QEMU 7.2 of Debian 12) on a
UKI and a FIT made by ukify and mkimage: neither is an ELF, a legacy uImage, gzip or an
arm64 Image, so QEMU loads the file as a raw blob and jumps to RAM base + 0x80000, where
there is no Image header; kimage's qemu verdict is a reject for the same reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadertruth import qemu
from validator.checker import Options, check_image

ROOT = Path(__file__).resolve().parents[1]
FILES = (ROOT / "build/uki/out/zboot-gzip.efi", ROOT / "build/uki/out/debian-image.efi",
         ROOT / "build/fit/out/tiny-plain.itb", ROOT / "build/fit/out/tiny-gzip.itb")


@pytest.mark.skipif(not qemu.available("arm64")[0], reason=qemu.available("arm64")[1])
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_qemu_kernel_loads_them_as_raw_blobs(path):
    if not path.is_file():
        pytest.skip("run corpus/uki/make.sh and corpus/fit/make.sh")
    seen = qemu.run(path, path.name, "arm64")
    assert seen.accept is False and "no ARM\\x64 magic" in seen.message, seen.message
    verdict = check_image(path, Options(loaders={"qemu"})).loaders["qemu"]
    assert verdict["verdict"] == "reject"
    assert "layer/not-unwrapped" in verdict["reasons"]
