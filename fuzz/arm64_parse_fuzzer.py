#!/usr/bin/env python3
"""atheris harness: the arm64 Image header parsers, the construct twin and the
generated Kaitai parser, on the same bytes.

Either may reject an input (ConstructError, KaitaiStructError); nothing else may escape,
both must reject the same inputs, on the others they must give the same fields, and
the twin must build the bytes back (build(parse(b)) == b)."""

import fuzzlib

with fuzzlib.instrumented():
    import enum

    from construct import ConstructError
    from kaitaistruct import BytesIO, KaitaiStream, KaitaiStructError

    from validator._kaitai.arm64_image import Arm64Image
    from validator.formats import arm64_image

FIELDS = ("code0", "code1", "text_offset", "image_size", "res2", "res3", "res4", "magic",
          "pe_offset", "has_efi_stub", "is_pre_3_17", "effective_text_offset",
          "code1_branch_target")
FLAGS = ("be", "page_size", "phys_base", "reserved", "page_size_bytes")


def _plain(value):
    return int(value.value) if isinstance(value, enum.Enum) else value


def TestOneInput(data: bytes) -> None:
    data = data[:arm64_image.HEADER_SIZE + 8]
    try:
        c = arm64_image.parse(data)
    except ConstructError:
        c = None
    try:
        k = Arm64Image(KaitaiStream(BytesIO(data)))
    except (KaitaiStructError, EOFError):
        k = None
    if (c is None) != (k is None):
        raise AssertionError(f"twin {'rejects' if c is None else 'accepts'}, Kaitai "
                             f"{'rejects' if k is None else 'accepts'}: {data.hex()}")
    if c is None:
        return
    for name in FIELDS:
        if _plain(getattr(k, name)) != c[name]:
            raise AssertionError(f"{name}: Kaitai {getattr(k, name)!r}, twin {c[name]!r}")
    for name in FLAGS:
        if _plain(getattr(k.flags, name)) != c.flags[name]:
            raise AssertionError(f"flags.{name} differs")
    if arm64_image.build(c) != data[:arm64_image.HEADER_SIZE]:
        raise AssertionError("build(parse(b)) != b")


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, seeds=("arm64-image", "efi-stub"))
