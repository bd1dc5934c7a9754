"""EFI-stub arm64 Images for the seed corpus: the PE/COFF headers' mutations."""

from __future__ import annotations

from validator.formats.arm64_image.samples import (
    ARM64_ERAS,
    ARM64_MUTATIONS,
    _arm64_fit,
    _arm64_image,
)
from validator.formats.sampling import Chooser, Sample

#: The arm64 Image mutations that apply to an EFI stub.
EFI_STUB_MUTATIONS = {k: v for k, v in ARM64_MUTATIONS.items()
                      if k.startswith(("pe-", "bad-magic"))
                      and k != "pe-offset-without-mz"
                      and k != "bad-magic-noefi"}

def _efi_stub(c: Chooser, mutation: str | None) -> Sample:
    era, _ = _arm64_fit(c, EFI_STUB_MUTATIONS, mutation, None, True)
    era = era or c.choice(ARM64_ERAS)
    endian = "le" if era == "3.12" or c.integer(0, 3) else "be"
    if mutation == "any":
        mutation = c.choice(tuple(EFI_STUB_MUTATIONS))
    s = _arm64_image(c, mutation, era=era, efi=True, endian=endian)
    s.kind = "efi-stub"
    return s


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"efi-stub": (lambda c, m: _efi_stub(c, m), EFI_STUB_MUTATIONS)}
