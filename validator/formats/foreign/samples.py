"""Kernels of other architectures for the seed corpus: a loongarch64 EFI Image, an arm
zImage, an s390 image, an EFI stub of a foreign PE machine and foreign vmlinux ELFs, each
built from the magic that identifies it (validator/formats/foreign/__init__.py)."""

from __future__ import annotations

from validator.formats.elf.writer import elf64
from validator.formats.foreign import (
    ARM_ZIMAGE_MAGIC,
    ARM_ZIMAGE_MAGIC_OFFSET,
    LOONGARCH_PE_MAGIC,
    LOONGARCH_PE_MAGIC_OFFSET,
    S390_MAGIC,
    S390_MAGIC_OFFSET,
)
from validator.formats.pe.writer import pe_header
from validator.formats.sampling import Chooser, Sample
from validator.formats.uimage.samples import uimage_bytes

EXPECT = ("foreign/not-described",)


def _loongarch(c: Chooser) -> bytes:
    data = bytearray(0x1000)
    data[:2] = b"MZ"
    data[LOONGARCH_PE_MAGIC_OFFSET:LOONGARCH_PE_MAGIC_OFFSET + 4] = LOONGARCH_PE_MAGIC
    data[0x3C:0x40] = (0x40).to_bytes(4, "little")
    pe = pe_header(size_of_image=0x1000, entry=0x200, file_size=0x1000, machine=0x6264)
    data[0x40:0x40 + len(pe)] = pe
    return bytes(data)


def _pe_machine(c: Chooser) -> bytes:
    data = bytearray(0x1000)
    data[:2] = b"MZ"
    data[0x3C:0x40] = (0x40).to_bytes(4, "little")
    pe = pe_header(size_of_image=0x1000, entry=0x200, file_size=0x1000,
                   machine=c.choice((0x1C2, 0x5032, 0x200)))
    data[0x40:0x40 + len(pe)] = pe
    return bytes(data)


def _arm_zimage(c: Chooser) -> bytes:
    data = bytearray(c.binary(0x40).ljust(0x40, b"\0")) + bytes(0x400)
    data[ARM_ZIMAGE_MAGIC_OFFSET:ARM_ZIMAGE_MAGIC_OFFSET + 4] = ARM_ZIMAGE_MAGIC
    data[0x38:0x3C] = b"\0\0\0\0"  # no arm64 or riscv magic by chance
    return bytes(data)


def _s390(c: Chooser) -> bytes:
    data = bytearray(S390_MAGIC_OFFSET + 0x100)
    data[S390_MAGIC_OFFSET:S390_MAGIC_OFFSET + len(S390_MAGIC)] = S390_MAGIC
    return bytes(data)


def _elf(c: Chooser) -> bytes:
    machine = c.choice((22, 258, 8, 40))  # s390x, loongarch64, mips, arm
    return elf64(bytes(0x200), machine=machine, endian="big" if machine in (22, 8) else
                 "little")


def _uimage(c: Chooser) -> bytes:
    """A uImage of a mips or 32-bit arm kernel: ih_arch names it, the payload is opaque."""
    return uimage_bytes(c.binary(0x100).ljust(0x100, b"\0"), comp=0, arch=c.choice((5, 2)))


_BUILDERS = {"loongarch64": _loongarch, "pe-machine": _pe_machine, "arm-zimage": _arm_zimage,
             "s390x": _s390, "elf": _elf, "uimage": _uimage}


def _foreign(c: Chooser, mutation: str | None) -> Sample:
    if mutation is not None:  # "s390-cut": the file ends before S390EP, nothing names it
        data = _s390(c)[:c.integer(0x40, S390_MAGIC_OFFSET)]
        return Sample("foreign", "s390-cut", data, MUTATIONS["s390-cut"][0], "s390-cut",
                      {"kind": "s390x"})
    name = c.choice(sorted(_BUILDERS))
    return Sample("foreign", name, _BUILDERS[name](c), EXPECT, None, {"kind": name})


#: mutation -> (expected rule IDs, applies?)
MUTATIONS = {"s390-cut": (("layer/unknown-format",), lambda p: True)}
#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"foreign": (_foreign, MUTATIONS)}
