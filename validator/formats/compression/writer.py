"""Compressing as the kernel's build does, and decoding a whole stream back (``kimage fuzz
--from`` re-wraps a real image's header after mutating it)."""

from __future__ import annotations

import functools
import struct
import zlib

from validator.formats.compression import LZ4_LEGACY as LZ4_LEGACY_MAGIC
from validator.formats.compression import codec_of

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
    """The whole decoded stream, or None when it does not decode within ``limit``."""
    try:
        if codec == "gzip":
            d = zlib.decompressobj(31)
            out = d.decompress(data, limit + 1)
        elif codec in ("xz", "lzma"):
            import lzma
            d = lzma.LZMADecompressor(lzma.FORMAT_XZ if codec == "xz" else lzma.FORMAT_ALONE)
            out = d.decompress(data, limit + 1)
        elif codec == "bzip2":
            import bz2
            d = bz2.BZ2Decompressor()
            out = d.decompress(data, limit + 1)
        elif codec == "zstd":
            import zstandard
            out = zstandard.ZstdDecompressor().stream_reader(
                data, read_across_frames=False).read(limit + 1)
        elif codec == "lz4-frame":
            import lz4.frame
            out = lz4.frame.LZ4FrameDecompressor().decompress(data, limit + 1)
        elif codec == "lz4":
            import lz4.block
            out, pos = bytearray(), 4
            while pos + 4 <= len(data) and len(out) <= limit:
                size = struct.unpack_from("<I", data, pos)[0]
                if size == 0 or pos + 4 + size > len(data):
                    break
                out += lz4.block.decompress(data[pos + 4:pos + 4 + size],
                                            uncompressed_size=8 << 20)
                pos += 4 + size
            out = bytes(out)
        else:
            return None
    except Exception:
        return None
    return out if len(out) <= limit else None


def stream_codec(data: bytes) -> str | None:
    """The codec ``compress`` and ``decompress`` call the stream ``data`` (the registry's
    table, ``codec_of``; the lz4 frame format is "lz4-frame"), or None."""
    codec = codec_of(data)
    if codec == "lz4" and not data.startswith(LZ4_LEGACY_MAGIC):
        return "lz4-frame"
    return None if codec == "lzo" else codec
