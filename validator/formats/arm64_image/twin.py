"""arm64 kernel Image header: the construct twin of ``specs/arm64_image.ksy``.

Field names, order and validity checks mirror the spec; the spec's instances are
``Computed`` fields. ``parse`` and ``build`` are exact inverses on valid headers.
"""

from __future__ import annotations

import enum

from construct import (
    BitsInteger,
    BitStruct,
    Bytes,
    ByteSwapped,
    Computed,
    Const,
    Container,
    Flag,
    Int32ul,
    Int64ul,
    Struct,
)

from validator.formats.arm64_image import (  # noqa: F401 (the package's constants)
    HEADER_SIZE,
    LEGACY_TEXT_OFFSET,
    MAGIC,
    MAGIC_OFFSET,
)


class PageSize(enum.IntEnum):
    """flags bits 1-2 (booting.rst)."""

    unspecified = 0
    size_4k = 1
    size_16k = 2
    size_64k = 3


PAGE_SIZE_BYTES = {
    PageSize.unspecified: 0,
    PageSize.size_4k: 4096,
    PageSize.size_16k: 16384,
    PageSize.size_64k: 65536,
}


def _branch_target(code1: int) -> int:
    """Offset that a ``b`` at offset 4 reaches, or -1 when code1 is no ``b``."""
    if code1 & 0xFC000000 != 0x14000000:
        return -1
    return 4 + ((code1 & 0x03FFFFFF) ^ 0x02000000) * 4 - 0x8000000


# The flags word is a little-endian u64 read least significant bit first; BitStruct
# reads most significant first, so the fields are declared from bit 63 down to bit 0.
image_flags = ByteSwapped(
    BitStruct(
        "reserved" / BitsInteger(60),
        "phys_base" / Flag,
        "page_size" / BitsInteger(2),
        "be" / Flag,
        "page_size_bytes" / Computed(lambda this: PAGE_SIZE_BYTES[PageSize(this.page_size)]),
    )
)

arm64_image = Struct(
    "code0" / Int32ul,
    "code1" / Int32ul,
    "text_offset" / Int64ul,
    "image_size" / Int64ul,
    "flags" / image_flags,
    "res2" / Int64ul,
    "res3" / Int64ul,
    "res4" / Int64ul,
    "magic" / Const(MAGIC, Bytes(4)),
    "pe_offset" / Int32ul,
    "has_efi_stub" / Computed(lambda this: (this.code0 & 0xFFFF) == 0x5A4D),
    "is_pre_3_17" / Computed(lambda this: this.image_size == 0),
    "effective_text_offset" / Computed(
        lambda this: LEGACY_TEXT_OFFSET if this.image_size == 0 else this.text_offset
    ),
    "code1_branch_target" / Computed(lambda this: _branch_target(this.code1)),
)

#: Fields read from the bytes, in order (the spec's ``seq``).
SEQ_FIELDS = (
    "code0", "code1", "text_offset", "image_size", "flags",
    "res2", "res3", "res4", "magic", "pe_offset",
)
FLAG_FIELDS = ("be", "page_size", "phys_base", "reserved")


def looks_like(data: bytes) -> bool:
    """True when the magic sits at 0x38; a 64-byte header need not be complete."""
    return data[MAGIC_OFFSET : MAGIC_OFFSET + 4] == MAGIC


def parse(data: bytes) -> Container:
    """Parse the 64-byte header at the start of ``data``.

    Raises ``construct.ConstructError`` on a short buffer or a wrong magic.
    """
    return arm64_image.parse(data[:HEADER_SIZE])


def build(header: dict) -> bytes:
    """Build 64 header bytes from a mapping with the ``SEQ_FIELDS`` (``magic`` optional)."""
    return arm64_image.build(header)
