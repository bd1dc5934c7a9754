"""ppc64 head twin: known answers from measured 6.1 kernels and the layouts, round trips."""

from __future__ import annotations

import struct

import pytest
from construct import ConstructError
from hypothesis import given
from hypothesis import strategies as st

from validator import strategies as ks
from validator.formats.ppc64_head import twin as ppc64_head


def _head_6_1(order: str, trampoline: bytes, run_at_load: int, branch=0x4800CFD4) -> bytes:
    """A 6.1 head laid out as shared/reference/ppc64.md section 2, Era E, says."""
    o = ">" if order == "big" else "<"
    head = struct.pack(o + "II", 0x08000048, 0x4800002C) + trampoline
    head += struct.pack(o + "IIQQ", branch, 0x7FE00008, 0, 0) + bytes(0x14)
    head += struct.pack(o + "I", run_at_load)
    head += struct.pack(o + "II", 0x08000048, 0x4800002C) + bytes(0x98)
    assert len(head) == 0x100
    return head


# Trampoline first words as measured: BE raw a6 00 60 7d, LE raw 7d 60 00 a6.
BE_HEAD = _head_6_1("big", bytes.fromhex("a600607d") + bytes(0x24), 0x72756E30)
LE_HEAD = _head_6_1("little", bytes.fromhex("7d6000a6") + bytes(0x24), 0x72756E30)


def test_measured_first_bytes_tell_the_byte_order():
    # ppc64.md section 3: BE kernel starts 08 00 00 48 48 00 00 2c, LE 48 00 00 08 2c 00 00 48
    assert BE_HEAD[:8] == bytes.fromhex("080000484800002c")
    assert LE_HEAD[:8] == bytes.fromhex("480000082c000048")
    assert ppc64_head.endian_of(BE_HEAD) == "big"
    assert ppc64_head.endian_of(LE_HEAD) == "little"


def test_run0_is_stored_in_kernel_byte_order():
    assert LE_HEAD[0x5C:0x60] == bytes.fromhex("306e7572")  # "0nur" (measured, Debian ppc64el)
    assert BE_HEAD[0x5C:0x60] == b"run0"
    for head in (BE_HEAD, LE_HEAD):
        h = ppc64_head.parse(head).body
        assert h.run_at_load == 0x72756E30
        assert h.layout == ppc64_head.Layout.fixup_endian_long
        assert h.main_branch_offset == 0x30
        assert h.main_branch_target == 0x30 + 0xCFD4
        assert h.secondary_entry == 0x08000048
        assert h.kdump_flag is None and h.iseries_pointer is None


def test_short_fixup_endian_puts_the_branch_at_0x28():
    head = struct.pack(">II", 0x08000048, 0x48000024) + bytes(0x20)
    head += struct.pack(">IIQQ", 0x48001000, 0x7FE00008, 0, 0) + bytes(0x1C)
    head += struct.pack(">I", 0x72756E30) + bytes(0xA0)
    h = ppc64_head.parse(head).body
    assert h.layout == ppc64_head.Layout.fixup_endian_short and h.main_branch_offset == 0x28


def test_plain_branch_head_exposes_kdump_and_iseries_words():
    head = struct.pack(">IIQQQQ", 0x48000200, 0x7FE00008, 0, 0, 1, 0x4000) + bytes(0x3C)
    head += struct.pack(">I", 0) + bytes(0xA0)
    h = ppc64_head.parse(head).body
    assert h.layout == ppc64_head.Layout.plain_branch
    assert (h.kdump_flag, h.iseries_pointer, h.run_at_load) == (1, 0x4000, 0)
    assert h.main_branch_target == 0x200


@pytest.mark.parametrize("mutate", [
    lambda b: b[:0x34] + b"\0\0\0\0" + b[0x38:],  # no trap after the main branch
    lambda b: b[:4] + struct.pack(">I", 0x48000028) + b[8:],  # unknown trampoline length
    lambda b: b[:0x30] + struct.pack(">I", 0x4800CFD5) + b[0x34:],  # bl, not b
    lambda b: b[:255],
])
def test_non_heads_are_rejected(mutate):
    with pytest.raises(ConstructError):
        ppc64_head.parse(mutate(BE_HEAD))


@given(ks.ppc64_head_bytes())
def test_build_parse_is_identity_on_bytes(data):
    assert ppc64_head.build(ppc64_head.parse(data)) == data


@given(st.binary(min_size=256, max_size=256))
def test_arbitrary_bytes_either_reject_or_round_trip(data):
    try:
        h = ppc64_head.parse(data)
    except ConstructError:
        return
    assert ppc64_head.build(h) == data


@given(ks.ppc64_heads())
def test_parse_build_is_identity_on_values(head):
    top = ppc64_head.parse(ppc64_head.build(head))
    assert top.is_le == head["is_le"]
    parsed, body = top.body, head["body"]
    for name in ppc64_head.BODY_FIELDS:
        if name == "fixup_endian":
            if body[name] is None:
                assert parsed[name] is None
            else:
                assert {k: parsed[name][k] for k in body[name]} == body[name]
        else:
            assert parsed[name] == body[name]


def test_every_layout_of_the_spec_has_a_meaning_in_the_decoder():
    """The decoder describes each layout by the spec's enum names (``specs/ppc64_head.ksy``
    ``layout``), and the twin's layouts are the spec's enum itself."""
    from validator._kaitai.ppc64_head import Ppc64Head
    from validator.formats.ppc64_head import decoder

    assert set(decoder._LAYOUT_MEANING) == {m.name for m in Ppc64Head.Layout}
    assert ppc64_head.Layout is Ppc64Head.Layout
