"""The corpus files the wrapper-spec tests read: real kernels in their real wrappers
(corpus/kernels, made by mkimage, mkbootimg and the kernel's own build) materialised
into a directory."""

from __future__ import annotations

from pathlib import Path

from corpus.kernels.parts import materialise_parts
from corpus.materialise import materialise
from tests.conftest import CORPUS

KERNELS = CORPUS / "kernels"
PPC64_VARIANTS = ("ppc64-be-noreloc", "ppc64-be-reloc", "ppc64-be-reloc-test",
                  "ppc64e-book3e-reloc", "ppc64le-reloc")
ZBOOT_VARIANTS = ("arm64-4k-le-zboot-gzip", "arm64-4k-le-zboot-zstd")


def kernel_file(variant: str, name: str, out_dir: Path) -> Path:
    """The file ``name`` of corpus/kernels/``variant``: stored whole, or materialised
    from its excerpt or parts manifest into ``out_dir``."""
    base = KERNELS / variant
    if (base / name).is_file():
        return base / name
    out = out_dir / variant / name
    out.parent.mkdir(parents=True, exist_ok=True)
    if (base / f"{name}.excerpt.json").is_file():
        return materialise(base / f"{name}.excerpt.json", out)
    return materialise_parts(base / f"{name}.parts.json", out)
