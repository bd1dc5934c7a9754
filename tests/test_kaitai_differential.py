"""The generated Kaitai parsers and the construct twins agree on every input.

Both parse the same bytes; they must reject the same inputs and, on the others,
give the same value for every field and instance of the spec.
"""

from __future__ import annotations

import enum

from construct import ConstructError
from hypothesis import given, settings
from hypothesis import strategies as st
from kaitaistruct import BytesIO, KaitaiStream, KaitaiStructError

from validator import strategies as ks
from validator._kaitai.arm64_image import Arm64Image
from validator._kaitai.ppc64_head import Ppc64Head
from validator.formats import arm64_image, ppc64_head

# EOFError: kaitaistruct < 0.11 style short reads; still raised by some runtime paths.
KAITAI_REJECTS = (KaitaiStructError, EOFError)


def _plain(value):
    if isinstance(value, enum.Enum):
        return int(value.value)
    return value


def _kaitai(cls, data: bytes):
    try:
        return cls(KaitaiStream(BytesIO(data)))
    except KAITAI_REJECTS:
        return None


def _construct(module, data: bytes):
    try:
        return module.parse(data)
    except ConstructError:
        return None


ARM64_NAMES = ("code0", "code1", "text_offset", "image_size", "res2", "res3", "res4", "magic",
               "pe_offset", "has_efi_stub", "is_pre_3_17", "effective_text_offset",
               "code1_branch_target")
ARM64_FLAG_NAMES = ("be", "page_size", "phys_base", "reserved", "page_size_bytes")


def arm64_agree(data: bytes) -> None:
    k = _kaitai(Arm64Image, data)
    c = _construct(arm64_image, data)
    assert (k is None) == (c is None), data.hex()
    if k is None:
        return
    for name in ARM64_NAMES:
        assert _plain(getattr(k, name)) == c[name], name
    for name in ARM64_FLAG_NAMES:
        assert _plain(getattr(k.flags, name)) == c.flags[name], name


PPC64_TOP = ("first_word_be", "is_le", "has_fixup_endian")
PPC64_BODY = ("main_branch", "trap", "secondary_hold_spinloop",
               "secondary_hold_acknowledge", "low_fill", "run_at_load", "secondary_hold",
               "layout", "main_branch_offset", "main_branch_target", "kdump_flag",
               "iseries_pointer", "secondary_entry")


def ppc64_agree(data: bytes) -> None:
    k = _kaitai(Ppc64Head, data)
    c = _construct(ppc64_head, data)
    assert (k is None) == (c is None), data.hex()
    if k is None:
        return
    for name in PPC64_TOP:
        assert _plain(getattr(k, name)) == c[name], name
    kb, cb = k.body, c.body
    for name in PPC64_BODY:
        assert _plain(getattr(kb, name)) == cb[name], name
    # Kaitai leaves a field whose `if` is false unset.
    kfe = getattr(kb, "fixup_endian", None)
    if cb.fixup_endian is None:
        assert kfe is None
    else:
        for name in ("tdi", "skip_branch", "trampoline"):
            assert getattr(kfe, name) == cb.fixup_endian[name], name


def _mutated(base: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Valid bytes with one byte changed, or cut short."""
    @st.composite
    def draw(draw_):
        data = bytearray(draw_(base))
        how = draw_(st.sampled_from(["byte", "cut", "none"]))
        if how == "byte":
            i = draw_(st.integers(0, len(data) - 1))
            data[i] = draw_(st.integers(0, 255))
        elif how == "cut":
            data = data[: draw_(st.integers(0, len(data) - 1))]
        return bytes(data)
    return draw()


@settings(max_examples=400)
@given(st.binary(min_size=0, max_size=80)
       | st.binary(min_size=56, max_size=56).map(lambda b: b + b"ARMd" + b"\0\0\0\0")
       | _mutated(ks.arm64_header_bytes(any_values=True)))
def test_arm64_parsers_agree(data):
    arm64_agree(data)


@settings(max_examples=400)
@given(st.binary(min_size=0, max_size=300) | _mutated(ks.ppc64_head_bytes()))
def test_ppc64_parsers_agree(data):
    ppc64_agree(data)


def test_corpus_headers_agree():
    from tests.conftest import CORPUS
    for path in sorted((CORPUS / "synthetic").rglob("*")):
        if path.suffix == ".img":
            arm64_agree(path.read_bytes())
        elif path.suffix == ".head":
            ppc64_agree(path.read_bytes())
