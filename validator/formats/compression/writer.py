"""Compressing as the kernel's build does, and decoding a whole stream back (``kimage fuzz
--from`` re-wraps a real image's header after mutating it)."""

from __future__ import annotations

import functools
import struct

from validator.formats.compression import CODECS, codec_of
from validator.formats.compression import LZ4_LEGACY as LZ4_LEGACY_MAGIC

#: Decompressing a real image to mutate the header inside is bounded by this.
MAX_INNER = 256 << 20

def compress(codec: str, data: bytes) -> bytes:
    """``data`` compressed as the kernel's build writes it (deterministic for a given
    library version). zstd and lz4 need the ``zstandard`` and ``lz4`` packages."""
    if codec == "gzip":
        import gzip
        return gzip.compress(data, compresslevel=9, mtime=0)
    if codec == "xz":
        import lzma
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    if codec == "lzma":
        import lzma
        return lzma.compress(data, format=lzma.FORMAT_ALONE)
    if codec == "bzip2":
        import bz2
        return bz2.compress(data, 9)
    if codec == "zstd":
        import zstandard
        return zstandard.ZstdCompressor(level=19, write_checksum=True,
                                        write_content_size=True).compress(data)
    if codec == "lz4":
        import lz4.block
        out = bytearray(LZ4_LEGACY_MAGIC)
        for i in range(0, max(len(data), 1), 8 << 20):
            block = lz4.block.compress(data[i:i + (8 << 20)], store_size=False,
                                       mode="high_compression", compression=9)
            out += struct.pack("<I", len(block)) + block
        return bytes(out)
    if codec == "lz4-frame":
        import lz4.frame
        return lz4.frame.compress(data, compression_level=9, content_checksum=True,
                                  store_size=True)
    raise ValueError(f"unknown codec {codec!r}")


@functools.cache
def codec_available(codec: str) -> bool:
    """True when ``compress(codec, ...)`` can run here."""
    try:
        compress(codec, b"x")
    except ImportError:
        return False
    return True


def decompress(codec: str, data: bytes, limit: int = MAX_INNER) -> bytes | None:
    """The whole decoded stream, or None when it does not decode within ``limit``. Decoded
    by the check path's decoder (``decoder.stream_decoder``); a stream cut short gives
    what it decodes to."""
    from validator.formats.compression.decoder import CHUNK, stream_decoder
    from validator.io.views import BytesView

    if codec not in CODECS:
        return None
    try:
        factory, _ = stream_decoder("lz4" if codec == "lz4-frame" else codec,
                                    BytesView(data), data[:32])
        dec = factory()
        out = bytearray()
        while len(out) <= limit:
            chunk = dec.read(min(CHUNK, limit + 1 - len(out)))
            if not chunk:
                break
            out += chunk
    except Exception:
        return None
    return bytes(out) if len(out) <= limit else None


def stream_codec(data: bytes) -> str | None:
    """The codec ``compress`` and ``decompress`` call the stream ``data`` (the registry's
    table, ``codec_of``; the lz4 frame format is "lz4-frame"), or None."""
    codec = codec_of(data)
    if codec == "lz4" and not data.startswith(LZ4_LEGACY_MAGIC):
        return "lz4-frame"
    return None if codec == "lzo" else codec
