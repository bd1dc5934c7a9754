"""Compressed kernels for the seed corpus (an arm64 Image or a ppc64 vmlinux in each
codec as the kernel's build writes it), streams cut short or with a bad checksum, and
mutations of a real compressed image (the header inside, recompressed)."""

from __future__ import annotations

import struct
from collections.abc import Callable

from validator.formats.arm64_image.samples import arm64_bytes, arm64_header, arm64_params
from validator.formats.compression import CODECS
from validator.formats.compression.writer import compress, decompress, stream_codec
from validator.formats.elf import EM_PPC64
from validator.formats.elf.writer import elf64
from validator.formats.ppc64_head.samples import _ppc64_head_bytes, ppc64_params
from validator.formats.sampling import Chooser, Mutator, Sample


def _inner_image(c: Chooser) -> tuple[bytes, dict]:
    """What a compressed file holds: mostly an arm64 Image, sometimes a ppc64 vmlinux."""
    if c.integer(0, 3):
        p = arm64_params(c, c.choice(("4.6", "5.8")))
        return arm64_bytes(arm64_header(p), p), {"inner": "arm64-image", **p}
    p = ppc64_params(c, c.choice(("D", "E")))
    head = _ppc64_head_bytes(c, p, None)
    return elf64(head, endian=p["endian"], machine=EM_PPC64), {"inner": "ppc64-elf", **p}


#: Expected findings for a stream cut short / with a bad checksum, per codec.
COMPRESSED_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "stream-truncated": (("layer/truncated",), lambda p: True),
    "checksum-wrong": (("layer/corrupt",), lambda p: p["codec"] != "lz4"),
    "isize-lying": (("layer/lying-size",), lambda p: p["codec"] == "gzip"),
    "block-size-impossible": (("layer/corrupt",), lambda p: p["codec"] == "lz4"),
}


def _compressed(c: Chooser, mutation: str | None, codec: str) -> Sample:
    inner, p = _inner_image(c)
    p = {"codec": codec, **p}
    stream = compress(codec, inner)
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in COMPRESSED_MUTATIONS.items() if ok(p)])
    if mutation is None:
        return Sample(codec, f"{p['inner']}.{codec}", stream, ("layer/compressed",), None, p)
    expect, ok = COMPRESSED_MUTATIONS[mutation]
    if not ok(p):
        raise ValueError(f"mutation {mutation} does not apply to {codec}")
    return Sample(codec, mutation, _break_stream(c, codec, stream, mutation), expect,
                  mutation, p)


def _break_stream(c: Chooser, codec: str, stream: bytes, mutation: str) -> bytes:
    data = bytearray(stream)
    if mutation == "stream-truncated":
        # keep the stream's header; cut in the data or in the trailer
        return bytes(data[:c.integer(max(0x3C, len(data) // 2), len(data) - 1)])
    if mutation == "isize-lying":  # gzip: ISIZE is the last 4 bytes
        size = struct.unpack_from("<I", data, len(data) - 4)[0]
        struct.pack_into("<I", data, len(data) - 4, (size + c.integer(1, 2**32 - 1)) % 2**32)
        return bytes(data)
    if mutation == "block-size-impossible":  # lz4 legacy: first block's size word
        struct.pack_into("<I", data, 4, c.choice((0, c.integer(0x900000, 0xFFFFFFFF))))
        return bytes(data)
    # checksum-wrong: flip a bit of the stream's integrity check
    if codec == "gzip":
        pos = len(data) - 8 + c.integer(0, 3)  # CRC32
    elif codec == "xz":
        pos = _xz_check_offset(bytes(data)) + c.integer(0, 3)
    elif codec == "bzip2":
        pos = 10 + c.integer(0, 3)  # the first block's CRC, after "BZh9" and 1AY&SY
    elif codec in ("zstd", "lz4-frame"):
        pos = len(data) - 4 + c.integer(0, 3)  # content checksum
    else:  # lzma-alone has no checksum: break the range coder's first byte (always 0)
        pos = 13
    data[pos] ^= 1 << c.integer(0, 7)
    return bytes(data)


def _xz_check_offset(stream: bytes) -> int:
    """Offset of the CRC32 after the first (only) block of an xz stream: the index
    starts with 0x00 and holds the block's unpadded size (multibyte integers)."""
    footer = stream[-12:]
    backward = (struct.unpack_from("<I", footer, 4)[0] + 1) * 4
    index = len(stream) - 12 - backward
    pos = index + 2  # indicator 0x00, number of records (1)
    unpadded, pos = _xz_varint(stream, pos)
    return 12 + unpadded - 4  # stream header is 12 bytes; the check ends the unpadded size


def _xz_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _compressed_kind(codec: str):
    return lambda c, m: _compressed(c, m, codec)


def _stream_targets(data: bytes, out: dict, depth: int, limit: int, recurse) -> None:
    codec = stream_codec(data)
    out[f"{codec}:stream-truncated"] = (("layer/truncated",), lambda c: data[:c.integer(
        max(0x3C, len(data) // 2), len(data) - 1)])
    if codec == "gzip":
        out["gzip:checksum-wrong"] = (("layer/corrupt",), lambda c: _break_stream(
            c, codec, data, "checksum-wrong"))
    inner = decompress(codec, data, limit)
    if inner is None:
        return
    for name, (expect, fn) in recurse(inner, "compressed", depth + 1, limit=limit).items():
        if ":stream-" in name or name.endswith("checksum-wrong"):
            continue
        out[f"{codec}>{name}"] = (expect, _recompress(codec, fn))


def _recompress(codec: str, fn: Mutator) -> Mutator:
    return lambda c: compress(codec, fn(c))


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {codec: (_compressed_kind(codec), {m: v for m, v in COMPRESSED_MUTATIONS.items()
                                           if v[1]({"codec": codec})}) for codec in CODECS}


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """A stream's own mutations, and the header inside it (recompressed)."""
    if not stream_codec(data):
        return False
    _stream_targets(data, out, depth, limit, recurse)
    return True
