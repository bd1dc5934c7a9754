"""The arm64 kernel Image header (``specs/arm64_image.ksy``; Documentation/arch/arm64/
booting.rst): its constants, declared once.

``decoder`` decodes it on the check path (the generated Kaitai parser), ``twin`` parses and
builds it (construct), ``rules`` judges its facts, ``samples`` builds images and their
near-valid mutations for the seed corpus.
"""

from __future__ import annotations

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "header"

FORMAT = "arm64-image"

HEADER_SIZE = 64
MAGIC = b"ARMd"
MAGIC_OFFSET = 0x38
#: text_offset a loader assumes when image_size is 0 (booting.rst).
LEGACY_TEXT_OFFSET = 0x80000

#: code0 of an Image: what each known first instruction is.
EFI_CODE0 = 0xFA405A4D  # "MZ" ccmp x18, #0, #0xd, pl (5.x and later)
OLD_EFI_CODE0 = 0x91005A4D  # "MZ" add x13, x18, #0x16
NOP = 0xD503201F
CODE0 = {
    EFI_CODE0: 'EFI stub "MZ" (ccmp x18, #0, #0xd, pl; 5.x and later)',
    OLD_EFI_CODE0: 'EFI stub "MZ" (add x13, x18, #0x16; before the ccmp form)',
    NOP: "nop (no EFI stub)",
}

#: The ELF e_machine of an arm64 vmlinux (elf.h EM_AARCH64).
from validator.formats.elf import EM_AARCH64 as ELF_MACHINE  # noqa: E402,F401

#: The package's own modules (never the twin's names).
_PARTS = frozenset({"decoder", "twin", "rules", "samples", "writer"})


def __getattr__(name: str):
    """The construct twin's names (``parse``, ``build``, ...), imported on first use: the
    check path reads only the constants above and never imports construct."""
    if name.startswith("__") or name in _PARTS:
        raise AttributeError(name)  # a submodule not imported yet: the import system's
    from validator.formats.arm64_image import twin

    return getattr(twin, name)


def probe(view) -> bool:
    """True when the magic sits at 0x38 (``looks_like`` of the spec)."""
    return view.read(MAGIC_OFFSET, 4) == MAGIC


#: (test or None, decoder probe or None): see validator.formats.header_probes
PROBE = (probe, None)
