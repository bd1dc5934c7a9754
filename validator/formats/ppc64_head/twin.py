"""ppc64 kernel head (first 256 bytes of _stext): the twin of ``specs/ppc64_head.ksy``.

As in pyelftools' ``structs.py``, the struct is declared once and instantiated per
byte order. The byte order comes from the bytes themselves (FIXUP_ENDIAN), exactly as
the spec's calculated endianness does; the spec's instances are ``Computed`` fields.
"""

from __future__ import annotations

import functools
import struct

from construct import (
    Bytes,
    Computed,
    Const,
    Container,
    ExprValidator,
    If,
    Int32ub,
    Int32ul,
    Int64ub,
    Int64ul,
    OneOf,
    Peek,
    Struct,
    Switch,
    this,
)

from validator._kaitai.ppc64_head import Ppc64Head
from validator.formats.ppc64_head import (  # noqa: F401 (the package's constants)
    BODY_FIELDS,
    HEAD_SIZE,
    RUN0,
    RUN_AT_LOAD_OFFSET,
    SECONDARY_ENTRY_OFFSET,
    SKIP_LONG,
    SKIP_SHORT,
    TDI_FIXUP,
    TDI_OTHER_ORDER,
    TRAP,
    is_branch,
)

#: The head's layouts and __run_at_load values, as the spec declares them (its ``layout``
#: and ``run_at_load`` enums, in the generated parser).
Layout = Ppc64Head.Layout
RunAtLoad = Ppc64Head.RunAtLoad


def _sign26(value: int) -> int:
    return ((value & 0x03FFFFFC) ^ 0x02000000) - 0x02000000


def _layout(this) -> int:
    if not this._.has_fixup_endian:
        return Layout.plain_branch
    return Layout.fixup_endian_long if this.fixup_endian.skip_branch == SKIP_LONG else (
        Layout.fixup_endian_short
    )


@functools.cache
def body_struct(endian: str) -> Struct:
    """The spec's ``body`` type for ``endian`` ("big" or "little")."""
    u4 = Int32ub if endian == "big" else Int32ul
    u8 = Int64ub if endian == "big" else Int64ul
    order = "big" if endian == "big" else "little"

    fixup_endian = Struct(
        "tdi" / Const(TDI_FIXUP, u4),
        "skip_branch" / OneOf(u4, (SKIP_SHORT, SKIP_LONG)),
        "trampoline" / Bytes(lambda this: (this.skip_branch & 0x03FFFFFC) - 4),
    )
    return Struct(
        "fixup_endian" / If(this._.has_fixup_endian, fixup_endian),
        "main_branch" / ExprValidator(u4, lambda obj, ctx: is_branch(obj)),
        "trap" / Const(TRAP, u4),
        "secondary_hold_spinloop" / u8,
        "secondary_hold_acknowledge" / u8,
        "main_branch_offset" / Computed(
            lambda this: 8 + len(this.fixup_endian.trampoline) if this._.has_fixup_endian else 0
        ),
        "low_fill" / Bytes(lambda this: RUN_AT_LOAD_OFFSET - this.main_branch_offset - 0x18),
        "run_at_load" / u4,
        "secondary_hold" / Bytes(HEAD_SIZE - SECONDARY_ENTRY_OFFSET),
        "layout" / Computed(_layout),
        "main_branch_target" / Computed(
            lambda this: this.main_branch_offset + _sign26(this.main_branch)
        ),
        # 0x18 and 0x20 lie in low_fill when there is no FIXUP_ENDIAN (main branch at 0).
        "kdump_flag" / Computed(
            lambda this: None if this._.has_fixup_endian
            else int.from_bytes(this.low_fill[0:8], order)
        ),
        "iseries_pointer" / Computed(
            lambda this: None if this._.has_fixup_endian
            else int.from_bytes(this.low_fill[8:16], order)
        ),
        "secondary_entry" / Computed(
            lambda this: int.from_bytes(this.secondary_hold[0:4], order)
        ),
    )


ppc64_head = Struct(
    "first_word_be" / Peek(Int32ub),
    "is_le" / Computed(lambda this: this.first_word_be == TDI_OTHER_ORDER),
    "has_fixup_endian" / Computed(
        lambda this: this.first_word_be in (TDI_FIXUP, TDI_OTHER_ORDER)
    ),
    # The spec's calculated endianness: the body's byte order follows is_le.
    "body" / Switch(this.is_le, {True: body_struct("little"), False: body_struct("big")}),
)


def endian_of(data: bytes) -> str:
    """The kernel's byte order as the spec tells it from the first word."""
    return "little" if data[:4] == struct.pack(">I", TDI_OTHER_ORDER) else "big"


def parse(data: bytes) -> Container:
    """Parse the 256-byte head at the start of ``data``.

    Raises ``construct.ConstructError`` on a short buffer or bytes that are no head.
    """
    return ppc64_head.parse(data[:HEAD_SIZE])


def build(head: dict) -> bytes:
    """Build 256 head bytes from ``{"is_le": bool, "body": {BODY_FIELDS...}}``.

    ``body["fixup_endian"]`` is None for a plain_branch head, which is big-endian.
    """
    body = head["body"]
    if body.get("fixup_endian") is not None:
        first = TDI_OTHER_ORDER if head["is_le"] else TDI_FIXUP
    elif head["is_le"]:
        raise ValueError("a little-endian head always starts with FIXUP_ENDIAN")
    else:
        first = body["main_branch"]
    return ppc64_head.build({"first_word_be": first, "body": body})
