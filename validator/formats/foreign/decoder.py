"""A kernel of another architecture: identify it, report it as not described.

``probe`` recognises a raw file (a header magic, or an EFI stub whose PE Machine is
foreign); ``for_elf`` a vmlinux by its e_machine. ``decode`` gives the architecture as
the only fact and one info finding.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.foreign import (
    ARM_ZIMAGE_MAGIC,
    ARM_ZIMAGE_MAGIC_OFFSET,
    ELF_MACHINES,
    FORMAT,
    LOONGARCH_PE_MAGIC,
    LOONGARCH_PE_MAGIC_OFFSET,
    PE_MACHINES,
    S390_MAGIC,
    S390_MAGIC_OFFSET,
    UIMAGE_ARCHES,
)
from validator.formats.pe import PE_SIGNATURE
from validator.formats.results import Decoded
from validator.io.views import View

__all__ = ["FORMAT", "probe", "decode", "for_elf", "for_uimage", "identify"]

rule("foreign/not-described", "info",
     "a kernel of an architecture kimage does not describe",
     "The file is recognised as a kernel (or an EFI application) of another architecture by "
     "what identifies it: its ELF e_machine, its EFI stub's PE Machine or its header magic. "
     "kimage describes the boot headers of arm64, ppc64, riscv64 and x86; it does not judge "
     "this one, and no loader it models starts it, so every loader verdict is n/a.",
     "the ELF gABI e_machine; PE Format 'Machine Types'; Linux Documentation/arch/loongarch/"
     "booting.rst, arch/arm/boot/compressed/head.S, arch/s390/kernel/kexec_image.c",
     ())


def identify(view: View) -> tuple[str, str] | None:
    """(architecture, what identified it) of a raw file, or None."""
    head = view.read(0, 0x40)
    if len(head) < 0x40:
        return None
    if head[:2] == b"MZ":  # LINUX_PE_MAGIC at 0x38 is loongarch's and every EFI zboot's:
        # the PE Machine tells them apart
        pe = view.read(int.from_bytes(head[0x3C:0x40], "little"), 6)
        machine = int.from_bytes(pe[4:6], "little") if pe[:4] == PE_SIGNATURE else None
        if machine in PE_MACHINES:
            linux = head[LOONGARCH_PE_MAGIC_OFFSET:LOONGARCH_PE_MAGIC_OFFSET + 4] == \
                LOONGARCH_PE_MAGIC
            return PE_MACHINES[machine], (f"PE Machine {machine:#06x}" + (
                ", LINUX_PE_MAGIC at 0x38" if linux else ""))
    if head[ARM_ZIMAGE_MAGIC_OFFSET:ARM_ZIMAGE_MAGIC_OFFSET + 4] == ARM_ZIMAGE_MAGIC:
        return "arm", "zImage magic 0x016f2818 at 0x24"
    if view.read(S390_MAGIC_OFFSET, len(S390_MAGIC)) == S390_MAGIC:
        return "s390x", "S390EP at 0x10008"
    return None


def probe(view: View) -> bool:
    return identify(view) is not None


def decode(view: View, elf_endianness: str | None = None) -> Decoded:
    found = identify(view)
    if found is None:
        return Decoded()
    return described(*found)


def for_elf(machine: int | None, name: str | None) -> Decoded | None:
    """The foreign decoding of an ELF vmlinux whose e_machine is ``machine``, or None when
    that machine is one kimage describes or does not know."""
    arch = ELF_MACHINES.get(machine)
    if arch is None:
        return None
    return described(arch, f"ELF e_machine {name or machine}")


def for_uimage(arch) -> Decoded | None:
    """The foreign decoding of a uImage payload no header format took, by the uImage's
    ih_arch (the uImage layer's name for it: "arm", or the number), or None."""
    code = {"arm": 2}.get(arch, arch)
    name = UIMAGE_ARCHES.get(code) if isinstance(code, int) else None
    return None if name is None else described(name, f"uImage ih_arch {code}")


def described(arch: str, how: str) -> Decoded:
    return Decoded(header={"arch": arch, "identified_by": how}, facts={"arch": arch},
                   findings=[finding("foreign/not-described",
                                     f"not described by kimage ({arch}): {how}")])
