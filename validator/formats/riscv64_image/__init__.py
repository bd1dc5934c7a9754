"""The RISC-V kernel Image header (``specs/riscv64_image.ksy``; Linux Documentation/arch/
riscv/boot-image-header.rst, arch/riscv/include/asm/image.h): its constants, declared once.

``decoder`` decodes it on the check path (the generated Kaitai parser), ``twin`` parses and
builds it (construct), ``rules`` judges its facts, ``samples`` builds Images and their
near-valid mutations for the seed corpus.
"""

from __future__ import annotations

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "header"

FORMAT = "riscv64-image"

HEADER_SIZE = 64
#: "RSC\x05" at 0x38 (RISCV_IMAGE_MAGIC2, header version 0.2 and later): what loaders test.
MAGIC = b"RSC\x05"
MAGIC_OFFSET = 0x38
#: "RISCV\0\0\0" at 0x30 (RISCV_IMAGE_MAGIC), deprecated since header version 0.2.
OLD_MAGIC = b"RISCV\0\0\0"
OLD_MAGIC_OFFSET = 0x30
#: Header version 0.2 (RISCV_HEADER_VERSION): major << 16 | minor.
VERSION_0_2 = 0x00000002
#: text_offset head.S writes: 2 MiB for RV64 (__riscv_xlen 64), 4 MiB for RV32.
TEXT_OFFSET_RV64 = 0x200000
TEXT_OFFSET_RV32 = 0x400000
#: flags bit 0 (RISCV_IMAGE_FLAG_BE).
FLAG_BE = 1
#: The PE/COFF machine of a riscv64 EFI stub (IMAGE_FILE_MACHINE_RISCV64).
PE_MACHINE_RISCV64 = 0x5064

#: The ELF e_machine of a riscv vmlinux (elf.h EM_RISCV).
from validator.formats.elf import EM_RISCV as ELF_MACHINE  # noqa: E402,F401

#: The package's own modules (never the twin's names).
_PARTS = frozenset({"decoder", "twin", "rules", "samples", "writer"})


def version_text(raw: int) -> str:
    """0x00000002 -> "0.2"."""
    return f"{raw >> 16}.{raw & 0xFFFF}"


def __getattr__(name: str):
    """The construct twin's names (``parse``, ``build``, ...), imported on first use: the
    check path reads only the constants above and never imports construct."""
    if name.startswith("__") or name in _PARTS:
        raise AttributeError(name)
    from validator.formats.riscv64_image import twin

    return getattr(twin, name)


def probe(view) -> bool:
    """True when "RSC\\x05" sits at 0x38 (header version 0.2 and later)."""
    return view.read(MAGIC_OFFSET, 4) == MAGIC


#: (test or None, decoder probe or None): see validator.formats.header_probes
PROBE = (probe, None)
