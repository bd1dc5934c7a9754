"""RISC-V kernel Image header: the construct twin of ``specs/riscv64_image.ksy``.

Field names, order and validity checks mirror the spec; the spec's instances are
``Computed`` fields. ``parse`` and ``build`` are exact inverses on valid headers.
"""

from __future__ import annotations

from construct import Bytes, Computed, Const, Container, Int32ul, Int64ul, Struct

from validator.formats.riscv64_image import (  # noqa: F401 (the package's constants)
    FLAG_BE,
    HEADER_SIZE,
    MAGIC,
    MAGIC_OFFSET,
    OLD_MAGIC,
)

header_version = Struct(
    "raw" / Int32ul,
    "major" / Computed(lambda this: this.raw >> 16),
    "minor" / Computed(lambda this: this.raw & 0xFFFF),
)

riscv64_image = Struct(
    "code0" / Int32ul,
    "code1" / Int32ul,
    "text_offset" / Int64ul,
    "image_size" / Int64ul,
    "flags" / Int64ul,
    "version" / header_version,
    "res1" / Int32ul,
    "res2" / Int64ul,
    "magic" / Bytes(8),
    "magic2" / Const(MAGIC),
    "pe_offset" / Int32ul,
    "has_efi_stub" / Computed(lambda this: (this.code0 & 0xFFFF) == 0x5A4D),
    "is_big_endian" / Computed(lambda this: bool(this.flags & FLAG_BE)),
    "has_magic" / Computed(lambda this: this.magic == OLD_MAGIC),
)

#: Fields read from the bytes, in order (the spec's ``seq``).
SEQ_FIELDS = (
    "code0", "code1", "text_offset", "image_size", "flags", "version",
    "res1", "res2", "magic", "magic2", "pe_offset",
)


def looks_like(data: bytes) -> bool:
    """True when "RSC\\x05" sits at 0x38."""
    return data[MAGIC_OFFSET:MAGIC_OFFSET + 4] == MAGIC


def parse(data: bytes) -> Container:
    """Parse the 64-byte header at the start of ``data``.

    Raises ``construct.ConstructError`` on a short buffer or a wrong magic2.
    """
    return riscv64_image.parse(data[:HEADER_SIZE])


def build(header: dict) -> bytes:
    """Build 64 header bytes from a mapping with the ``SEQ_FIELDS`` (``magic2`` optional;
    ``version`` a mapping with ``raw``)."""
    return riscv64_image.build(header)
