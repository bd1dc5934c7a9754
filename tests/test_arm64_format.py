"""arm64 Image header twin: known answers from measured kernels, and round trips."""

from __future__ import annotations

import struct

import pytest
from construct import ConstructError
from hypothesis import given
from hypothesis import strategies as st

from validator import strategies as ks
from validator.formats.arm64_image import twin as arm64_image

# A Debian 6.1.0-50-cloud-arm64 header as measured (shared/reference/peers.md:
# text_offset 0, image_size 0x1aa0000, flags 0xa; arm64.md: code0 0xfa405a4d,
# code1 0x14054bc7 of a 6.1 LE 4K build, PE header at 0x40).
DEBIAN_CLOUD = struct.pack("<IIQQQQQQ4sI", 0xFA405A4D, 0x14054BC7, 0, 0x1AA0000, 0xA,
                           0, 0, 0, b"ARMd", 0x40)
# The measured BE 64K 6.1 Image (arm64.md section 1), as the bytes od printed.
BE_64K = bytes.fromhex(
    "1f2003d5" "310b0714" "0000000000000000" "00002f0000000000" "0f00000000000000"
    + "00" * 24 + "41524d64" "00000000")


def test_debian_header_fields():
    h = arm64_image.parse(DEBIAN_CLOUD)
    assert (h.text_offset, h.image_size) == (0, 0x1AA0000)
    assert h.flags.be is False
    assert h.flags.page_size == arm64_image.PageSize.size_4k
    assert h.flags.page_size_bytes == 4096
    assert h.flags.phys_base is True and h.flags.reserved == 0
    assert h.has_efi_stub and h.pe_offset == 0x40
    # arm64.md: code1 0x14054bc7 -> 0x152f20 = primary_entry - _text
    assert h.code1_branch_target == 0x152F20


def test_big_endian_64k_header():
    h = arm64_image.parse(BE_64K)
    assert h.code0 == 0xD503201F and not h.has_efi_stub
    assert h.flags.be is True
    assert h.flags.page_size_bytes == 65536
    assert h.flags.phys_base is True
    assert h.image_size == 0x2F0000 and h.pe_offset == 0


@pytest.mark.parametrize("flags, be, page, anywhere", [
    (0xA, False, 4096, True),   # LE 4K (measured)
    (0xC, False, 16384, True),  # LE 16K (measured)
    (0xF, True, 65536, True),   # BE 64K (measured)
    (0x6, False, 65536, False),  # the value file(1) misreads as "4K, 16K, 32K pages"
    (0x1, True, 0, False),
])
def test_flag_bits(flags, be, page, anywhere):
    data = DEBIAN_CLOUD[:0x18] + struct.pack("<Q", flags) + DEBIAN_CLOUD[0x20:]
    h = arm64_image.parse(data)
    assert (h.flags.be, h.flags.page_size_bytes, h.flags.phys_base) == (be, page, anywhere)


def test_pre_3_17_header_uses_legacy_text_offset():
    data = struct.pack("<IIQQQQQQ4sI", 0x14000010, 0, 0x80000, 0, 0, 0, 0, 0, b"ARMd", 0)
    h = arm64_image.parse(data)
    assert h.is_pre_3_17 and h.effective_text_offset == 0x80000


def test_bad_magic_and_short_input_are_rejected():
    with pytest.raises(ConstructError):
        arm64_image.parse(DEBIAN_CLOUD[:0x38] + b"ARMD" + DEBIAN_CLOUD[0x3C:])
    with pytest.raises(ConstructError):
        arm64_image.parse(DEBIAN_CLOUD[:63])


def test_branch_target_sign_extends():
    # b .-4 at offset 4 (imm26 = -1) reaches 0
    data = DEBIAN_CLOUD[:4] + struct.pack("<I", 0x17FFFFFF) + DEBIAN_CLOUD[8:]
    assert arm64_image.parse(data).code1_branch_target == 0
    data = DEBIAN_CLOUD[:4] + struct.pack("<I", 0xD503201F) + DEBIAN_CLOUD[8:]
    assert arm64_image.parse(data).code1_branch_target == -1


@given(st.binary(min_size=0x38, max_size=0x38), st.binary(min_size=4, max_size=4))
def test_build_parse_is_identity_on_bytes(prefix, tail):
    data = prefix + arm64_image.MAGIC + tail
    assert arm64_image.build(arm64_image.parse(data)) == data


@given(ks.arm64_headers(any_values=True) | ks.arm64_headers())
def test_parse_build_is_identity_on_values(header):
    parsed = arm64_image.parse(arm64_image.build(header))
    for name in arm64_image.SEQ_FIELDS:
        if name == "magic":
            assert parsed.magic == arm64_image.MAGIC
        elif name == "flags":
            for bit in arm64_image.FLAG_FIELDS:
                assert parsed.flags[bit] == header["flags"][bit]
        else:
            assert parsed[name] == header[name]
