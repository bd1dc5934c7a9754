"""specs/efi_zboot.ksy against the header as the kernel's zboot-header.S lays it out and
as independent tools read it (od, recorded in corpus/kernels/*/expected.json), against the
payload itself (the range the spec gives decompresses, with Python's gzip or zstandard, to
the arm64 Image whose size the build recorded, and the 4-byte size Makefile.zboot appends
after a non-gzip payload is that size), and against kimage's zboot layer decoder
(validator/formats/zboot/decoder.py), also on mutated headers."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from kaitaistruct import KaitaiStructError

from tests.wrapper_corpus import KERNELS, ZBOOT_VARIANTS
from validator._kaitai.efi_zboot import EfiZboot

#: Linux 6.1 drivers/firmware/efi/libstub/Makefile.zboot comp-type-$(CONFIG_KERNEL_*)
COMP_TYPE = {"CONFIG_KERNEL_GZIP": "gzip", "CONFIG_KERNEL_ZSTD": "zstd22"}


def _expected(variant: str) -> dict:
    doc = json.loads((KERNELS / variant / "expected.json").read_text())
    return next(i for i in doc["images"] if i["file"] == "vmlinuz.efi")


def _config_comp_type(variant: str) -> str:
    lines = (KERNELS / variant / "config").read_text().splitlines()
    return next(COMP_TYPE[k] for k in COMP_TYPE if f"{k}=y" in lines)


@pytest.mark.parametrize("variant", ZBOOT_VARIANTS)
def test_header_matches_od_and_the_build(variant):
    data = (KERNELS / variant / "vmlinuz.efi").read_bytes()
    k = EfiZboot.from_bytes(data)
    want = _expected(variant)
    zboot = next(layer for layer in want["layers"] if layer["kind"] == "zboot")
    assert (k.payload_offset, k.payload_size, k.compression_type) == (
        zboot["payload_offset"], zboot["payload_size"], zboot["compression"])
    assert k.compression_type == _config_comp_type(variant)
    # zboot-header.S: .org .Ldoshdr + 0x38 leaves 0x38 zero in 6.1; .Lpehdr follows at 0x40
    assert (k.linux_pe_magic, k.pe_offset, k.reserved) == (0, 0x40, bytes(8))
    assert k.pe.e_lfanew == k.pe_offset and k.pe.pe.coff.number_of_sections == 2


@pytest.mark.parametrize("variant", ZBOOT_VARIANTS)
def test_payload_range_is_the_compressed_image(variant):
    data = (KERNELS / variant / "vmlinuz.efi").read_bytes()
    k = EfiZboot.from_bytes(data)
    payload = data[k.payload_offset:k.payload_end]
    if k.compression_type == "gzip":
        stream = zlib.decompressobj(wbits=31)  # one gzip member, as the stub decodes it
        image = stream.decompress(payload)
        assert stream.eof and not stream.unused_data
    else:
        stream = zstandard.ZstdDecompressor().decompressobj()
        image = stream.decompress(payload)
        assert stream.eof and not stream.unused_data  # the frame ends where the range does
        # Makefile.zboot appends the decompressed size (le32) after a non-gzip payload
        assert struct.unpack_from("<I", data, k.payload_end)[0] == len(image)
    assert len(image) == _expected(variant)["payload_size"]
    assert image[0x38:0x3C] == b"ARM\x64"


HEAD = (KERNELS / ZBOOT_VARIANTS[0] / "vmlinuz.efi").read_bytes()[:0x40]


@settings(max_examples=200, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 0x3F), st.integers(0, 255)), max_size=4),
       keep=st.integers(0, 0x40))
def test_mutated_header_matches_the_layer_decoder(edits, keep):
    """The spec accepts exactly what the layer's probe takes ("MZ\\0\\0zimg") when the 64
    header bytes are there, and reads the same fields as the layer decoder."""
    from validator.formats import zboot

    blob = bytearray(HEAD)
    for pos, value in edits:
        blob[pos] = value
    blob = bytes(blob[:keep])
    try:
        k = EfiZboot.from_bytes(blob)
        ours = (k.payload_offset, k.payload_size, k.compression_type, k.linux_pe_magic,
                k.pe_offset)
    except (KaitaiStructError, EOFError):
        ours = None
    probe = blob[:8] == zboot.MAGIC
    assert (ours is not None) == (probe and len(blob) == zboot.HEADER_SIZE)
    if ours is not None:
        offset, size = struct.unpack_from("<II", blob, 8)
        name = blob[0x18:0x38].split(b"\0", 1)[0].decode("latin-1")
        assert ours == (offset, size, name, *struct.unpack_from("<II", blob, 0x38))
