"""arm64 Image header: decode the spec's fields, say what they mean, derive the facts.

The bytes are parsed by the parser generated from ``specs/arm64_image.ksy``
(``validator._kaitai``): the spec's own code, and a fraction of the construct twin's
import and parse time (bench/). tests/test_kaitai_differential.py holds the two equal.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.arm64_image import CODE0 as _CODE0
from validator.formats.arm64_image import (  # noqa: F401
    FORMAT,
    HEADER_SIZE,
    MAGIC,
    MAGIC_OFFSET,
    probe,  # noqa: F401 (the format's probe, re-exported)
)
from validator.formats.pe import IMAGE_FILE_MACHINE_ARM64, PE_SIGNATURE
from validator.formats.results import Decoded, kaitai_parse
from validator.io.views import View
from validator.model import Field
from validator.units import human_size

rule("arm64/bad-magic", "error",
     "the arm64 Image magic ARM\\x64 is missing at 0x38",
     "kexec-tools (arm64_header_check_magic), kexec_file_load (image_probe), U-Boot booti "
     "('Bad Linux ARM64 Image magic!') and an upstream GRUB up to 2.06 (not Debian's 2.06-13) "
     "refuse an Image without it; the "
     "file was recognised as an arm64 EFI image (or an arm64 vmlinux) by other means: its "
     "MZ and arm64 PE header, or its ELF e_machine. (EFI zboot files are unwrapped as a "
     "zboot layer and judged by layer/zboot.)",
     "booting.rst 'Magic number'; kexec-tools kexec/arch/arm64/image-header.h; "
     "U-Boot arch/arm/lib/image.c booti_setup; Linux 6.1 arch/arm64/kernel/kexec_image.c",
     ("kexec-tools", "kexec-file", "u-boot", "grub", "qemu"))
rule("arm64/truncated-header", "error",
     "the arm64 Image header is shorter than 64 bytes",
     "kexec_file_load's probe requires at least 64 bytes before it compares the magic; "
     "kexec-tools and U-Boot read all 64.",
     "Linux 6.1 arch/arm64/kernel/kexec_image.c image_probe; booting.rst 'Image header'",
     ("kexec-tools", "kexec-file", "u-boot", "grub", "efi"))


def probe_without_magic(view: View) -> bool:
    """An EFI-stub arm64 Image whose magic is wrong: "MZ", and an arm64 PE header at res5."""
    data = view.read(0, HEADER_SIZE)
    if len(data) < HEADER_SIZE or data[:2] != b"MZ":
        return False
    pe_offset = int.from_bytes(data[0x3C:0x40], "little")
    pe = view.read(pe_offset, 6)
    return (pe[:4] == PE_SIGNATURE
            and int.from_bytes(pe[4:6], "little") == IMAGE_FILE_MACHINE_ARM64)


def decode(view: View, elf_endianness: str | None = None) -> Decoded:
    data = view.read(0, HEADER_SIZE)
    if len(data) < HEADER_SIZE:
        return Decoded(findings=[finding(
            "arm64/truncated-header",
            f"the Image header needs 64 bytes, the file has {len(data)}", offset=len(data))])
    findings = []
    magic = data[MAGIC_OFFSET:MAGIC_OFFSET + 4]
    if magic != MAGIC:
        findings.append(finding(
            "arm64/bad-magic",
            f"0x38 holds {magic.hex(' ')} ({magic!r}), not ARM\\x64 (41 52 4d 64)",
            offset=MAGIC_OFFSET, field="magic"))
        data = data[:MAGIC_OFFSET] + MAGIC + data[MAGIC_OFFSET + 4:]
    h, error = kaitai_parse(_parser(), data)
    if error is not None:  # the magic is in place, so only a short read is left
        return Decoded(findings=[finding("arm64/truncated-header", f"arm64 header: {error}")])
    flags = h.flags
    page_size = flags.page_size
    header = {
        "code0": h.code0,
        "code1": h.code1,
        "text_offset": h.text_offset,
        "image_size": h.image_size,
        "flags": {
            "be": flags.be,
            "page_size": page_size.name,
            "phys_base": flags.phys_base,
            "reserved": flags.reserved,
            "page_size_bytes": flags.page_size_bytes,
        },
        "res2": h.res2,
        "res3": h.res3,
        "res4": h.res4,
        "magic": magic.decode("latin-1"),
        "pe_offset": h.pe_offset,
        "has_efi_stub": h.has_efi_stub,
        "is_pre_3_17": h.is_pre_3_17,
        "effective_text_offset": h.effective_text_offset,
        "code1_branch_target": h.code1_branch_target,
    }
    pe = view.read(h.pe_offset, 6) if h.pe_offset else b""
    derived = {
        "pe_signature_at_pe_offset": pe[:4] == PE_SIGNATURE,
        "pe_machine": int.from_bytes(pe[4:6], "little") if pe[:4] == PE_SIGNATURE else None,
    }
    return Decoded(header=header, derived=derived, fields=lambda: _shown(h, data, magic),
                   facts=facts_of(h), findings=findings)


def _shown(h, data: bytes, magic: bytes) -> list[Field]:
    """The fields for display, the magic as the file holds it."""
    fields = _fields(h, data)
    if magic != MAGIC:
        fields = [Field("magic", 0x38, 4, magic, magic.decode("latin-1"), "not ARM\\x64")
                  if f.name == "magic" else f for f in fields]
    return fields


def _parser():
    from validator._kaitai.arm64_image import Arm64Image

    return Arm64Image


def facts_of(h) -> dict:
    """The facts of a parsed header (a construct twin ``Container`` or the generated
    Kaitai parser's object: both have the spec's names)."""
    legacy = h.is_pre_3_17
    if legacy:
        # Before 3.17 only text_offset hints at the byte order (booting.rst: it is in
        # kernel endianness and the traditional value is 0x80000).
        endianness = {0x80000: "little", 0x0000080000000000: "big"}.get(h.text_offset)
        page_size = None
    else:
        endianness = "big" if h.flags.be else "little"
        page_size = h.flags.page_size_bytes or None
    return {
        "arch": "arm64",
        "endianness": endianness,
        "page_size": page_size,
        "placement": "anywhere" if (h.flags.phys_base and not legacy) else "dram-base",
        "text_offset": h.effective_text_offset,
        "image_size": h.image_size,
        "efi_stub": h.has_efi_stub,
    }


def _fields(h, data: bytes) -> list[Field]:
    flags = h.flags
    raw_flags = int.from_bytes(data[0x18:0x20], "little")
    legacy = h.is_pre_3_17
    target = h.code1_branch_target
    fields = [
        Field("code0", 0x00, 4, h.code0, h.code0, _code0_meaning(h.code0)),
        Field("code1", 0x04, 4, h.code1, h.code1,
              f"b {target:#x} (primary entry)" if target >= 0 else "not a branch"),
        Field("text_offset", 0x08, 8, h.text_offset, h.text_offset,
              _text_offset_meaning(h.text_offset, legacy)),
        Field("image_size", 0x10, 8, h.image_size, h.image_size,
              "0: kernel older than 3.17 (loaders assume 16 MiB or refuse)" if legacy
              else f"{human_size(h.image_size)} from image start to _end, BSS included"),
        Field("flags", 0x18, 8, raw_flags, raw_flags,
              "reserved before 3.17" if legacy else ""),
    ]
    if not legacy:
        page_size = flags.page_size
        fields += [
            Field("flags.be", 0x18, 8, int(flags.be), flags.be,
                  "big-endian kernel" if flags.be else "little-endian kernel", bits="0"),
            Field("flags.page_size", 0x18, 8, int(page_size), page_size.name,
                  f"{flags.page_size_bytes // 1024} KiB pages" if flags.page_size_bytes
                  else "page size unspecified", bits="1-2"),
            Field("flags.phys_base", 0x18, 8, int(flags.phys_base), flags.phys_base,
                  "2 MiB-aligned base anywhere in physical memory" if flags.phys_base
                  else "2 MiB-aligned base as low in DRAM as possible", bits="3"),
            Field("flags.reserved", 0x18, 8, flags.reserved, flags.reserved,
                  "zero" if not flags.reserved else "reserved bits set", bits="4-63"),
        ]
    for name, offset in (("res2", 0x20), ("res3", 0x28), ("res4", 0x30)):
        value = getattr(h, name)
        fields.append(Field(name, offset, 8, value, value,
                            "zero" if not value else "reserved, not zero"))
    fields += [
        Field("magic", 0x38, 4, bytes(h.magic), h.magic.decode("latin-1"),
              'ARM\\x64 (0x644d5241)'),
        Field("pe_offset", 0x3C, 4, h.pe_offset, h.pe_offset,
              (f"PE header at {h.pe_offset:#x}" if h.pe_offset else "no PE header")
              if h.has_efi_stub else ("zero (no EFI stub)" if not h.pe_offset
                                      else "set, but code0 has no MZ")),
    ]
    return fields


def _code0_meaning(code0: int) -> str:
    if code0 in _CODE0:
        return _CODE0[code0]
    if code0 & 0xFFFF == 0x5A4D:
        return 'EFI stub "MZ"'
    if code0 & 0xFC000000 == 0x14000000:
        return "b (no EFI stub)"
    return "instruction"


def _text_offset_meaning(value: int, legacy: bool) -> str:
    if legacy:
        return "in kernel byte order before 3.17; loaders assume 0x80000"
    if value == 0:
        return "image at the 2 MiB-aligned base (the norm since 5.8)"
    if value == 0x80000:
        return "0x80000 above the 2 MiB-aligned base (the norm before 5.8)"
    return f"{value:#x} above the 2 MiB-aligned base"
