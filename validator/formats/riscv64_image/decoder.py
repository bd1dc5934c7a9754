"""RISC-V Image header: decode the spec's fields, say what they mean, derive the facts.

The bytes are parsed by the parser generated from ``specs/riscv64_image.ksy``
(``validator._kaitai``); tests/test_riscv64_format.py holds it and the construct twin
equal. The EFI stub's PE/COFF headers (at ``pe_offset``, 0x3c) are described by the PE
container (``validator.formats.pe.decoder.describe``), beside the header.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.pe import PE_SIGNATURE
from validator.formats.results import Decoded, kaitai_parse
from validator.formats.riscv64_image import (
    FORMAT,
    HEADER_SIZE,
    MAGIC,
    MAGIC_OFFSET,
    OLD_MAGIC,
    OLD_MAGIC_OFFSET,
    PE_MACHINE_RISCV64,
    TEXT_OFFSET_RV32,
    TEXT_OFFSET_RV64,
    probe,  # noqa: F401 (the format's probe, re-exported)
    version_text,
)
from validator.io.views import View
from validator.model import Field
from validator.units import human_size

__all__ = ["FORMAT", "probe", "decode", "facts_of"]

rule("riscv64/bad-magic", "error",
     "the RISC-V Image magic2 \"RSC\\x05\" is missing at 0x38",
     "kexec-tools (riscv_header_check_magic), U-Boot booti ('Bad Linux RISCV Image "
     "magic!') and, for a header version 0.2 or later, kexec_file_load's Image loader "
     "(6.16 and later) refuse an Image without it; the file was recognised as a RISC-V "
     "Image by its deprecated \"RISCV\" magic at 0x30, or its riscv64 PE header, or as a "
     "riscv vmlinux by its ELF e_machine.",
     "Linux Documentation/arch/riscv/boot-image-header.rst; kexec-tools v2.0.32 "
     "kexec/arch/riscv/image-header.h; U-Boot v2025.01 arch/riscv/lib/image.c "
     "booti_setup; Linux 6.16 arch/riscv/kernel/kexec_image.c image_probe",
     ("kexec-tools", "kexec-file", "u-boot"))
rule("riscv64/truncated-header", "error",
     "the RISC-V Image header is shorter than 64 bytes",
     "kexec-tools' image_riscv_probe ('No riscv image header') and kexec_file_load's "
     "image_probe need the 64 bytes; U-Boot and GRUB read them all.",
     "kexec-tools v2.0.32 kexec/arch/riscv/kexec-image-riscv.c image_riscv_probe; Linux "
     "6.16 arch/riscv/kernel/kexec_image.c image_probe",
     ("kexec-tools", "kexec-file", "u-boot", "grub", "efi"))


def probe_without_magic(view: View) -> bool:
    """A RISC-V Image whose magic2 is wrong: the deprecated "RISCV\\0\\0\\0" at 0x30, or an
    EFI stub ("MZ") whose PE header at 0x3c is for riscv64."""
    data = view.read(0, HEADER_SIZE)
    if len(data) < OLD_MAGIC_OFFSET + 8:
        return False
    if data[OLD_MAGIC_OFFSET:OLD_MAGIC_OFFSET + 8] == OLD_MAGIC:
        return True
    if len(data) < HEADER_SIZE or data[:2] != b"MZ":
        return False
    pe = view.read(int.from_bytes(data[0x3C:0x40], "little"), 6)
    return (pe[:4] == PE_SIGNATURE
            and int.from_bytes(pe[4:6], "little") == PE_MACHINE_RISCV64)


def decode(view: View, elf_endianness: str | None = None) -> Decoded:
    data = view.read(0, HEADER_SIZE)
    if len(data) < HEADER_SIZE:
        return Decoded(findings=[finding(
            "riscv64/truncated-header",
            f"the Image header needs 64 bytes, the file has {len(data)}", offset=len(data))])
    findings = []
    magic2 = data[MAGIC_OFFSET:MAGIC_OFFSET + 4]
    if magic2 != MAGIC:
        findings.append(finding(
            "riscv64/bad-magic",
            f"0x38 holds {magic2.hex(' ')} ({magic2!r}), not RSC\\x05 (52 53 43 05)",
            offset=MAGIC_OFFSET, field="magic2"))
        data = data[:MAGIC_OFFSET] + MAGIC + data[MAGIC_OFFSET + 4:]
    h, error = kaitai_parse(_parser(), data)
    if error is not None:  # magic2 is in place, so only a short read is left
        return Decoded(findings=[finding("riscv64/truncated-header", f"riscv header: {error}")])
    header = header_of(h)
    header["magic2"] = magic2.decode("latin-1")
    pe = view.read(h.pe_offset, 6) if h.has_efi_stub else b""
    derived = {
        "pe_signature_at_pe_offset": pe[:4] == PE_SIGNATURE,
        "pe_machine": int.from_bytes(pe[4:6], "little") if pe[:4] == PE_SIGNATURE else None,
    }
    return Decoded(header=header, derived=derived, fields=lambda: _fields(h, magic2),
                   facts=facts_of(h),
                   findings=findings)


def _parser():
    from validator._kaitai.riscv64_image import Riscv64Image

    return Riscv64Image


def header_of(h) -> dict:
    """The header as JSON: the spec's fields and value instances."""
    return {
        "code0": h.code0,
        "code1": h.code1,
        "text_offset": h.text_offset,
        "image_size": h.image_size,
        "flags": h.flags,
        "version": {"raw": h.version.raw, "major": h.version.major,
                    "minor": h.version.minor},
        "res1": h.res1,
        "res2": h.res2,
        "magic": bytes(h.magic).decode("latin-1"),
        "pe_offset": h.pe_offset,
        "has_efi_stub": h.has_efi_stub,
        "is_big_endian": h.is_big_endian,
        "has_magic": h.has_magic,
    }


def facts_of(h) -> dict:
    """The facts of a parsed header (a construct twin ``Container`` or the generated
    Kaitai parser's object: both have the spec's names)."""
    return {
        "arch": "riscv64",
        "endianness": "big" if h.is_big_endian else "little",
        "text_offset": h.text_offset,
        "image_size": h.image_size,
        "efi_stub": h.has_efi_stub,
        "header_version": version_text(h.version.raw),
        "pe_offset": h.pe_offset if h.has_efi_stub else None,
    }


def _fields(h, magic2: bytes) -> list[Field]:
    def f(name, offset, size, meaning="", raw=None, value=None):
        got = getattr(h, name)
        return Field(name, offset, size, got if raw is None else raw,
                     got if value is None else value, meaning)

    version = h.version.raw
    return [
        f("code0", 0x00, 4, 'EFI stub "MZ" (c.li s4, -13)' if h.has_efi_stub
          else "instruction (no EFI stub)"),
        f("code1", 0x04, 4, "instruction"),
        f("text_offset", 0x08, 8, {TEXT_OFFSET_RV64: "2 MiB (RV64)",
                                   TEXT_OFFSET_RV32: "4 MiB (RV32)"}.get(
            h.text_offset, f"{h.text_offset:#x}: load alignment")),
        f("image_size", 0x10, 8, f"{human_size(h.image_size)} from image start to _end, "
          "BSS included" if h.image_size else "0: no size (loaders refuse it)"),
        f("flags", 0x18, 8, "big-endian kernel" if h.is_big_endian
          else "little-endian kernel"),
        Field("version", 0x20, 4, version, version_text(version),
              f"header version {version_text(version)}"),
        f("res1", 0x24, 4, "zero" if not h.res1 else "reserved, not zero"),
        f("res2", 0x28, 8, "zero" if not h.res2 else "reserved, not zero"),
        Field("magic", 0x30, 8, bytes(h.magic), bytes(h.magic).decode("latin-1"),
              '"RISCV" (deprecated since 0.2)' if h.has_magic else "not \"RISCV\""),
        Field("magic2", 0x38, 4, magic2, magic2.decode("latin-1"),
              "RSC\\x05 (0x05435352)" if magic2 == MAGIC else "not RSC\\x05"),
        f("pe_offset", 0x3C, 4, (f"PE header at {h.pe_offset:#x}" if h.pe_offset
                                 else "no PE header") if h.has_efi_stub
          else ("zero (no EFI stub)" if not h.pe_offset else "set, but code0 has no MZ")),
    ]
