"""The two parsers of each spec on the same bytes: the Kaitai-generated one
(validator/_kaitai) and the construct twin (validator/formats).

``arm64_agree`` and ``ppc64_agree`` raise ``AssertionError`` unless both reject ``data``
or both accept it with equal values for every field and instance of the spec, and the
twin builds the bytes back. The differential tests and the parse fuzzers use them; the
check path does not.
"""

from __future__ import annotations

import enum

from construct import ConstructError
from kaitaistruct import BytesIO, KaitaiStream, KaitaiStructError

from validator._kaitai.arm64_image import Arm64Image
from validator._kaitai.ppc64_head import Ppc64Head
from validator._kaitai.riscv64_image import Riscv64Image
from validator.formats import arm64_image, ppc64_head, riscv64_image

#: EOFError: short reads in some kaitaistruct paths.
KAITAI_REJECTS = (KaitaiStructError, EOFError)

ARM64_NAMES = ("code0", "code1", "text_offset", "image_size", "res2", "res3", "res4", "magic",
               "pe_offset", "has_efi_stub", "is_pre_3_17", "effective_text_offset",
               "code1_branch_target")
ARM64_FLAG_NAMES = ("be", "page_size", "phys_base", "reserved", "page_size_bytes")
PPC64_TOP = ("first_word_be", "is_le", "has_fixup_endian")
PPC64_BODY = ("main_branch", "trap", "secondary_hold_spinloop", "secondary_hold_acknowledge",
              "low_fill", "run_at_load", "secondary_hold", "layout", "main_branch_offset",
              "main_branch_target", "kdump_flag", "iseries_pointer", "secondary_entry")
FIXUP_FIELDS = ("tdi", "skip_branch", "trampoline")
RISCV64_NAMES = ("code0", "code1", "text_offset", "image_size", "flags", "res1", "res2",
                 "magic", "magic2", "pe_offset", "has_efi_stub", "is_big_endian", "has_magic")
RISCV64_VERSION = ("raw", "major", "minor")


def _plain(value):
    return int(value.value) if isinstance(value, enum.Enum) else value


def _both(kaitai_cls, module, data: bytes):
    try:
        k = kaitai_cls(KaitaiStream(BytesIO(data)))
    except KAITAI_REJECTS:
        k = None
    try:
        c = module.parse(data)
    except ConstructError:
        c = None
    if (k is None) != (c is None):
        raise AssertionError(f"twin {'rejects' if c is None else 'accepts'}, Kaitai "
                             f"{'rejects' if k is None else 'accepts'}: {data.hex()}")
    return k, c


def _same(names, k, c, where: str = "") -> None:
    for name in names:
        if _plain(getattr(k, name)) != c[name]:
            raise AssertionError(f"{where}{name}: Kaitai {getattr(k, name)!r}, "
                                 f"twin {c[name]!r}")


def arm64_agree(data: bytes) -> None:
    k, c = _both(Arm64Image, arm64_image, data)
    if c is None:
        return
    _same(ARM64_NAMES, k, c)
    _same(ARM64_FLAG_NAMES, k.flags, c.flags, "flags.")
    if arm64_image.build(c) != data[:arm64_image.HEADER_SIZE]:
        raise AssertionError("build(parse(b)) != b")


def ppc64_agree(data: bytes) -> None:
    k, c = _both(Ppc64Head, ppc64_head, data)
    if c is None:
        return
    _same(PPC64_TOP, k, c)
    _same(PPC64_BODY, k.body, c.body, "body.")
    kfe = getattr(k.body, "fixup_endian", None)  # Kaitai leaves a field whose `if` fails unset
    body = {name: c.body[name] for name in ppc64_head.BODY_FIELDS}
    if c.body.fixup_endian is None:
        if kfe is not None:
            raise AssertionError("fixup_endian: Kaitai has one, the twin none")
    else:
        _same(FIXUP_FIELDS, kfe, c.body.fixup_endian, "fixup_endian.")
        body["fixup_endian"] = {n: c.body.fixup_endian[n] for n in FIXUP_FIELDS}
    if ppc64_head.build({"is_le": c.is_le, "body": body}) != data[:ppc64_head.HEAD_SIZE]:
        raise AssertionError("build(parse(b)) != b")


def riscv64_agree(data: bytes) -> None:
    k, c = _both(Riscv64Image, riscv64_image, data)
    if c is None:
        return
    _same(RISCV64_NAMES, k, c)
    _same(RISCV64_VERSION, k.version, c.version, "version.")
    fields = {name: c[name] for name in riscv64_image.SEQ_FIELDS if name != "magic2"}
    fields["version"] = {"raw": c.version.raw}
    if riscv64_image.build(fields) != data[:riscv64_image.HEADER_SIZE]:
        raise AssertionError("build(parse(b)) != b")
