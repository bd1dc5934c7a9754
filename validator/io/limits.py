"""Bounds on what one analysis may read, decode and hold (``Limits``), and the
per-analysis state that holds it to them (``Context``: the decoded views made)."""

from __future__ import annotations

MiB = 1 << 20

TYPE_CHECKING = False
if TYPE_CHECKING:
    from validator.io.decoded import DecodedView
    from validator.model import Finding, Layer


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


class Context:
    """Per-analysis state shared by the layers: limits and the decoded views made."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.decoded: list[tuple[Layer | None, DecodedView]] = []

    def decoded_view(self, factory, parent, what: str, layer: Layer | None = None,
                     declared_length: int | None = None, window: int = 0,
                     upfront: bool = False) -> DecodedView:
        """A new decoded view; ``layer`` gets ``decoded_size`` (and ``trailing_bytes``)
        in its details once they are known (see ``finish``). ``window``: the history the
        decoder fills (its share of ``Limits.max_decoder_memory``)."""
        from validator.io.decoded import DecodedView

        view = DecodedView(factory, parent, self.limits, what, declared_length, window, self,
                           upfront)
        self.decoded.append((layer, view))
        return view

    def decoder_memory(self) -> int:
        """History window held by the live decoders of this chain."""
        return sum(view.decoder_memory for _, view in self.decoded)

    def finish(self) -> list[Finding]:
        """Decode to the end when the limits ask for it; record what became known;
        return the decoders' findings, innermost last."""
        findings: list[Finding] = []
        if self.limits.decode_all:  # innermost first: it pulls its parents along, in step
            for _, view in reversed(self.decoded):
                if not view.failed and view.to_end:
                    view.finish()
        for layer, view in self.decoded:  # (an inner stream's decode can stop an outer one)
            if layer is not None:
                if view.total is not None and not view.failed:
                    layer.details["decoded_size"] = view.total
                if view.trailing:
                    layer.details["trailing_bytes"] = view.trailing
                    magic = view.parent.read(view.consumed, 4)
                    layer.details["trailing_magic"] = magic.hex()
                    if magic == b"\xd0\x0d\xfe\xed":
                        layer.details["appended_dtb"] = True  # Image.gz-dtb
            findings += view.findings
        return findings
