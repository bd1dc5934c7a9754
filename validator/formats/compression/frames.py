"""What a compressed stream's first bytes say about its decoding: the history window
its decoder keeps (the share of ``Limits.max_decoder_memory`` it may come to need) and,
for zstd, where the frame ends (RFC 8878)."""

from __future__ import annotations

import struct

from validator.formats.compression import LZ4_LEGACY  # noqa: F401 (re-exported)

LZ4_LEGACY_BLOCK = 8 << 20  # the legacy frame's fixed block size (lz4 -l)
#: Codecs whose decoders take their buffers whole with the first block (a block in and
#: out, bzip2's block sort): the others' windows fill as they decode.
UPFRONT = frozenset({"bzip2", "lz4"})


def history_window(codec: str | None, head: bytes) -> int | None:
    """The history a decoder of ``codec`` keeps, from the stream's first bytes (None:
    not in them)."""
    if codec == "gzip":
        return 32 << 10  # RFC 1951: back-references reach 32 KiB
    if codec == "bzip2":
        return (head[3] - 0x30) * 400_000 + 100_000  # level: 100k blocks; ~4 bytes each
    if codec == "lzma" and len(head) >= 5:
        return struct.unpack_from("<I", head, 1)[0]  # the .lzma header's dictionary size
    if codec == "xz":
        return xz_dictionary(head)
    if codec == "lz4" and head.startswith(LZ4_LEGACY):
        return 2 * LZ4_LEGACY_BLOCK  # a block in, a block out
    if codec == "lz4" and len(head) >= 6:
        return 2 * (1 << (2 * ((head[5] >> 4) & 7) + 8)) + (64 << 10)  # BD block maximum
    if codec == "zstd":
        return zstd_window(head)
    return None


def xz_dictionary(head: bytes) -> int | None:
    """The LZMA2 dictionary size of an xz stream's first block (xz file format 1.1.0:
    12-byte stream header, then the block header's filter flags), or None."""
    if len(head) < 14:
        return None
    flags = head[13]
    pos: int | None = 14
    if flags & 0x40:
        pos = _skip_vli(head, pos)
    if flags & 0x80 and pos is not None:
        pos = _skip_vli(head, pos)
    for _ in range((flags & 3) + 1):
        if pos is None or pos + 3 > len(head):
            return None
        filter_id = head[pos]
        props = head[pos + 1]
        if filter_id == 0x21 and props == 1:  # LZMA2: one byte of properties
            bits = head[pos + 2] & 0x3F
            if bits > 40:
                return None
            return 0xFFFFFFFF if bits == 40 else (2 | (bits & 1)) << (bits // 2 + 11)
        pos += 2 + props
    return None


def _skip_vli(data: bytes, pos: int) -> int | None:
    for i in range(9):
        if pos + i >= len(data):
            return None
        if not data[pos + i] & 0x80:
            return pos + i + 1
    return None


def zstd_window(head: bytes) -> int | None:
    """A zstd frame's Window_Size (RFC 8878 3.1.1.1.2): from its window descriptor, or
    for a single-segment frame its content size."""
    if len(head) < 6 or not head.startswith(b"\x28\xb5\x2f\xfd"):
        return None
    fhd = head[4]
    if fhd & 0x20:  # single segment: the window is the frame content size
        size = (1, 2, 4, 8)[fhd >> 6]
        fcs = int.from_bytes(head[5 + (0, 1, 2, 4)[fhd & 3]:][:size], "little")
        return fcs + 256 if size == 2 else fcs
    descriptor = head[5]
    base = 1 << (10 + (descriptor >> 3))
    return base + (base >> 3) * (descriptor & 7)


def zstd_frame_end(view) -> int | None:
    """Offset just past the first zstd frame in ``view``, or None if it is cut short.

    Reads the frame header and each 3-byte block header (RFC 8878 section 3.1.1)."""
    hdr = view.read(0, 18)
    if len(hdr) < 6:
        return None
    fhd = hdr[4]
    dict_id = (0, 1, 2, 4)[fhd & 3]
    checksum = (fhd >> 2) & 1
    single = (fhd >> 5) & 1
    fcs = (0 if not single else 1, 2, 4, 8)[fhd >> 6]
    pos = 5 + (0 if single else 1) + dict_id + fcs
    while True:
        bh = view.read(pos, 3)
        if len(bh) < 3:
            return None
        word = int.from_bytes(bh, "little")
        last, btype, size = word & 1, (word >> 1) & 3, word >> 3
        pos += 3 + (1 if btype == 1 else size)
        if btype == 3:
            return None
        if last:
            break
    pos += 4 * checksum
    length = getattr(view, "known_length", None)
    if length is not None and pos > length:
        return None
    return pos
