#!/usr/bin/env python3
"""atheris harness: the ppc64 head parsers, the construct twin and the generated Kaitai
parser, on the same 256 bytes: same rejections, same fields, exact round trip."""

import fuzzlib

with fuzzlib.instrumented():
    import enum

    from construct import ConstructError
    from kaitaistruct import BytesIO, KaitaiStream, KaitaiStructError

    from validator._kaitai.ppc64_head import Ppc64Head
    from validator.formats import ppc64_head

TOP = ("first_word_be", "is_le", "has_fixup_endian")
BODY = ("main_branch", "trap", "secondary_hold_spinloop", "secondary_hold_acknowledge",
        "low_fill", "run_at_load", "secondary_hold", "layout", "main_branch_offset",
        "main_branch_target", "kdump_flag", "iseries_pointer", "secondary_entry")


def _plain(value):
    return int(value.value) if isinstance(value, enum.Enum) else value


def TestOneInput(data: bytes) -> None:
    data = data[:ppc64_head.HEAD_SIZE + 8]
    try:
        c = ppc64_head.parse(data)
    except ConstructError:
        c = None
    try:
        k = Ppc64Head(KaitaiStream(BytesIO(data)))
    except (KaitaiStructError, EOFError):
        k = None
    if (c is None) != (k is None):
        raise AssertionError(f"twin {'rejects' if c is None else 'accepts'}, Kaitai "
                             f"{'rejects' if k is None else 'accepts'}: {data.hex()}")
    if c is None:
        return
    for name in TOP:
        if _plain(getattr(k, name)) != c[name]:
            raise AssertionError(f"{name} differs")
    for name in BODY:
        if _plain(getattr(k.body, name)) != c.body[name]:
            raise AssertionError(f"body.{name}: Kaitai {getattr(k.body, name)!r}, "
                                 f"twin {c.body[name]!r}")
    body = {name: c.body[name] for name in ppc64_head.BODY_FIELDS}
    if body["fixup_endian"] is not None:
        body["fixup_endian"] = {k: c.body.fixup_endian[k]
                                for k in ("tdi", "skip_branch", "trampoline")}
    if ppc64_head.build({"is_le": c.is_le, "body": body}) != data[:ppc64_head.HEAD_SIZE]:
        raise AssertionError("build(parse(b)) != b")


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, seeds=("ppc64-head",))
