"""Bounds on what one analysis may read, decode and hold (``Limits``)."""

from __future__ import annotations

MiB = 1 << 20


class Limits:
    """Bounds on what one analysis may decode.

    ``max_decompressed``: bytes one decoder may produce before the chain stops with
    ``layer/decompression-limit``. ``max_ratio``: output/input ratio beyond which a
    stream counts as a bomb (checked once the output passes ``ratio_floor``).
    ``max_depth``: wrappers unwrapped before ``layer/nesting-limit``.
    ``max_decoder_memory``: bytes the decoded views of one chain may hold at once: their
    decoders' history windows (a zstd window or an xz dictionary fills as the stream
    decodes) and their own buffers, before ``layer/decoder-memory-limit``.
    ``scan_read``: bytes of the input file a banner search through a decoding layer may
    read (a raw file is scanned whole, as before). ``decode_all``: decode every stream to
    its end (bounded, memory-flat) to learn sizes and catch truncated or lying streams;
    off for ``inspect``, which decodes only what it reads.
    """

    __slots__ = ("max_decompressed", "max_ratio", "ratio_floor", "max_depth", "scan_read",
                 "decode_all", "max_decoder_memory")

    def __init__(self, max_decompressed: int = 64 * MiB, max_ratio: int = 256,
                 ratio_floor: int = 4 * MiB, max_depth: int = 8, scan_read: int = 768 * 1024,
                 decode_all: bool = False, max_decoder_memory: int = 36 * MiB) -> None:
        self.max_decompressed, self.max_ratio, self.ratio_floor = (
            max_decompressed, max_ratio, ratio_floor)
        self.max_depth, self.scan_read, self.decode_all = max_depth, scan_read, decode_all
        self.max_decoder_memory = max_decoder_memory

    def __eq__(self, other: object) -> bool:
        return type(other) is Limits and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"Limits({inner})"
