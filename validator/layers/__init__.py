"""Layers: what a loader unwraps before it reads a header.

A layer recognises its wrapper by magic, reports what it found (a ``Layer``) and hands
on a view of the bytes a loader would place in memory. A layer knows nothing of the
header formats above it.

Every view answers ``read(offset, n)`` and knows its root ``source``. Two kinds exist:

* ``View``: a window on the input file (``base``, ``length``); reads are ``pread``s.
* ``DecodedView``: the output of a decoder (decompression, a tar member of a compressed
  archive). Bytes are produced on demand, streaming, from the parent view: the first
  ``HEAD`` decoded bytes are kept, after that only a sliding ``WINDOW``; a read behind
  the window restarts the decoder. Memory is bounded by ``HEAD + WINDOW`` plus the
  decoder's own state whatever the stream holds, and output is capped by ``Limits``.
"""

from __future__ import annotations

from validator.model import Finding, Layer
from validator.rules.registry import finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import Protocol

    from validator.source import Source

    class ByteView(Protocol):
        source: Source

        def read(self, offset: int, length: int) -> bytes: ...

    class Decoder(Protocol):
        """A pull decoder over a parent view: ``read(n)`` gives at most n new bytes, b""
        at the end. ``consumed`` is the input read so far; ``finished`` is True once the
        end marker was seen; ``trailing`` the input bytes after it (None when unknown)."""

        consumed: int
        finished: bool
        trailing: int | None

        def read(self, n: int) -> bytes: ...

MiB = 1 << 20


class Limits:
    """Bounds on what one analysis may decode.

    ``max_decompressed``: bytes one decoder may produce before the chain stops with
    ``layer/decompression-limit``. ``max_ratio``: output/input ratio beyond which a
    stream counts as a bomb (checked once the output passes ``ratio_floor``).
    ``max_depth``: wrappers unwrapped before ``layer/nesting-limit``.
    ``scan_read``: bytes of the input file a banner search through a decoding layer may
    read (a raw file is scanned whole, as before). ``decode_all``: decode every stream to
    its end (bounded, memory-flat) to learn sizes and catch truncated or lying streams;
    off for ``inspect``, which decodes only what it reads.
    """

    __slots__ = ("max_decompressed", "max_ratio", "ratio_floor", "max_depth", "scan_read",
                 "decode_all")

    def __init__(self, max_decompressed: int = 64 * MiB, max_ratio: int = 256,
                 ratio_floor: int = 4 * MiB, max_depth: int = 8, scan_read: int = 768 * 1024,
                 decode_all: bool = False) -> None:
        self.max_decompressed, self.max_ratio, self.ratio_floor = (
            max_decompressed, max_ratio, ratio_floor)
        self.max_depth, self.scan_read, self.decode_all = max_depth, scan_read, decode_all

    def __eq__(self, other: object) -> bool:
        return type(other) is Limits and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"Limits({inner})"


class View:
    """A window on a source: ``length`` bytes from ``base``."""

    __slots__ = ("source", "base", "length")

    def __init__(self, source: Source, base: int, length: int) -> None:
        self.source, self.base, self.length = source, base, length

    def __repr__(self) -> str:
        return f"View({self.source!r}, {self.base:#x}, {self.length:#x})"

    #: False: a View's bytes are the input file's bytes (DecodedView and SliceView: True).
    transformed = False

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset >= self.length:
            return b""
        length = min(length, self.length - offset)
        return self.source.read(self.base + offset, length)

    @property
    def known_length(self) -> int:
        return self.length

    def slice(self, offset: int, length: int) -> View:
        offset = max(0, min(offset, self.length))
        return View(self.source, self.base + offset, max(0, min(length, self.length - offset)))

    def scan(self, pattern: re.Pattern[bytes], max_match: int = 256,
             budget: int | None = None):
        return _scan(self, pattern, max_match, budget)

    @classmethod
    def whole(cls, source: Source) -> View:
        return cls(source, 0, source.size)


class DecodeError(Exception):
    """A decoder stopped: ``rule`` is the finding's rule ID."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


class DecodedView:
    """The output of a decoder, produced on demand with bounded memory."""

    HEAD = 1 * MiB
    WINDOW = 1 * MiB
    CHUNK = 64 * 1024

    transformed = True
    base = None  # not a file offset

    def __init__(self, factory, parent, limits: Limits, what: str,
                 declared_length: int | None = None):
        self._factory = factory  # () -> Decoder
        self.parent = parent
        self.source: Source = parent.source
        self.limits = limits
        self.what = what  # for messages: "gzip stream", "tar member ..."
        self.declared_length = declared_length
        self.findings: list[Finding] = []
        self.total: int | None = None  # decoded length once the end was reached
        self.finished = False  # the decoder saw its end marker
        self.trailing: int | None = None
        self.restarts = 0
        self._failed = False
        self._start()

    # -- decoding -------------------------------------------------------------------

    def _start(self) -> None:
        self._dec = None
        self._head = bytearray()
        self._win = bytearray()
        self._win_start = 0
        self._pos = 0  # bytes decoded so far
        self._done = False

    def _decoder(self):
        if self._dec is None:
            self._dec = self._factory()
        return self._dec

    def _fail(self, rule_id: str, message: str) -> None:
        self._done = True
        if not self._failed:
            self._failed = True
            self.findings.append(finding(rule_id, f"{self.what}: {message}"))

    def _advance(self, want: int) -> None:
        """Decode until ``want`` bytes exist (or the end, or a limit)."""
        limits = self.limits
        while not self._done and self._pos < want:
            try:
                dec = self._decoder()
                budget = limits.max_decompressed - self._pos
                chunk = dec.read(min(self.CHUNK, budget + 1))
            except DecodeError as exc:
                self._fail(exc.rule, exc.message)
                break
            except MemoryError:
                self._fail("layer/decompression-limit", "the decoder ran out of memory")
                break
            except Exception as exc:  # a library's own error type: corrupt input
                self._fail("layer/corrupt", f"{type(exc).__name__}: {exc}")
                break
            if not chunk:
                self._done = True
                self.total = self._pos
                self.finished = dec.finished
                self.trailing = dec.trailing
                if not dec.finished:
                    self._fail("layer/truncated", f"ends after {self._pos:#x} decoded bytes "
                               f"without its end marker")
                break
            if self._pos + len(chunk) > limits.max_decompressed:
                self._fail("layer/decompression-limit",
                           f"more than {limits.max_decompressed:#x} bytes decoded "
                           f"(the cap on decompressed output)")
                break
            consumed = max(dec.consumed, 1)
            if (self._pos + len(chunk) > limits.ratio_floor
                    and self._pos + len(chunk) > limits.max_ratio * consumed):
                self._fail("layer/decompression-limit",
                           f"{self._pos + len(chunk):#x} bytes from {consumed:#x}: more than "
                           f"{limits.max_ratio}:1, a decompression bomb")
                break
            self._push(chunk)
        if (self._done and self.total is not None and self.declared_length is not None
                and self.total != self.declared_length and not self._failed):
            self._fail("layer/lying-size", f"declares {self.declared_length:#x} bytes, "
                       f"decodes to {self.total:#x}")

    def _push(self, chunk: bytes) -> None:
        room = self.HEAD - len(self._head)
        if room > 0:
            self._head += chunk[:room]
        self._win += chunk
        self._pos += len(chunk)
        excess = len(self._win) - self.WINDOW
        if excess > 0:
            del self._win[:excess]
            self._win_start += excess

    # -- the view protocol -----------------------------------------------------------

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            return b""
        length = min(length, self.WINDOW - self.CHUNK)
        end = offset + length
        head = len(self._head)
        if end <= head:
            return bytes(self._head[offset:end])
        if max(offset, head) < self._win_start:
            # behind the window: decode again from the start (bounded, memory-flat)
            self.restarts += 1
            self._start()
        self._advance(end)
        head = len(self._head)
        if offset >= head:
            return self._from_window(offset, end)
        return bytes(self._head[offset:end]) + self._from_window(head, end)

    def _from_window(self, start: int, end: int) -> bytes:
        lo = start - self._win_start
        if lo < 0:
            return b""
        return bytes(self._win[lo:end - self._win_start])

    @property
    def known_length(self) -> int | None:
        """The decoded length if the end was reached, else the declared length, else None."""
        if self.total is not None:
            return self.total
        return self.declared_length

    @property
    def length(self) -> int:
        """The decoded length; decodes to the end (bounded) when not known yet."""
        if self.total is None:
            self._advance(self.limits.max_decompressed + 1)
        if self.total is not None:
            return self.total
        return self._pos

    @property
    def failed(self) -> bool:
        return self._failed

    @property
    def consumed(self) -> int:
        return self._dec.consumed if self._dec is not None else 0

    def finish(self) -> None:
        """Decode to the end (bounded), checking the stream and any declared size."""
        self._advance(self.limits.max_decompressed + 1)

    def slice(self, offset: int, length: int) -> SliceView:
        return SliceView(self, offset, length)

    def scan(self, pattern: re.Pattern[bytes], max_match: int = 256,
             budget: int | None = None):
        return _scan(self, pattern, max_match, budget)


class SliceView:
    """``length`` bytes at ``offset`` of a decoded view (e.g. a tar member)."""

    transformed = True
    base = None

    def __init__(self, parent: DecodedView | SliceView, offset: int, length: int):
        self.parent = parent
        self.source = parent.source
        self.offset = offset
        self.length = length

    @property
    def known_length(self) -> int:
        return self.length

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset >= self.length:
            return b""
        return self.parent.read(self.offset + offset, min(length, self.length - offset))

    def slice(self, offset: int, length: int) -> SliceView:
        offset = max(0, min(offset, self.length))
        return SliceView(self.parent, self.offset + offset,
                         max(0, min(length, self.length - offset)))

    def scan(self, pattern: re.Pattern[bytes], max_match: int = 256,
             budget: int | None = None):
        return _scan(self, pattern, max_match, budget)


class ViewFile:
    """A read-only, forward-reading file object over a view (for tarfile, zstandard,
    pefile and pyelftools); seeks are allowed."""

    def __init__(self, view, limit: int | None = None):
        self._view = view
        self._pos = 0
        self._limit = limit

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            self._pos = offset
        elif whence == 1:
            self._pos += offset
        else:
            self._pos = _length(self._view) + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = DecodedView.WINDOW
        if self._limit is not None:
            n = min(n, self._limit - self._pos)
        data = self._view.read(self._pos, n) if n > 0 else b""
        self._pos += len(data)
        return data

    def readinto(self, buf) -> int:
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def close(self) -> None:
        pass


def _length(view) -> int:
    return view.length


def _scan(view, pattern: re.Pattern[bytes], max_match: int, budget: int | None):
    """First match of ``pattern`` in ``view``; stops once ``budget`` bytes of the input
    file were read (None: no budget). Returns a match-like object or None."""
    source = view.source
    start_read = getattr(source, "bytes_read", 0)
    offset = 0
    tail = b""
    step = 64 * 1024  # small, so that a budget is overrun by little
    while True:
        chunk = view.read(offset, step)
        if not chunk:
            return None
        buf = tail + chunk
        m = pattern.search(buf)
        if m:
            return _Match(m, offset - len(tail))
        tail = buf[-max_match:]
        offset += len(chunk)
        if budget is not None and getattr(source, "bytes_read", 0) - start_read > budget:
            return None


class _Match:
    def __init__(self, match: re.Match[bytes], base: int):
        self._m = match
        self._base = base

    def group(self, *args):
        return self._m.group(*args)

    def start(self, group: int = 0) -> int:
        return self._base + self._m.start(group)


class Unwrapped:
    """What a wrapper layer hands back: its ``Layer``, the next view (None: the chain
    stops), findings, facts it establishes (e.g. ``compression``) and companion files
    found beside the kernel (e.g. a package's ``config``: name -> bytes)."""

    __slots__ = ("layer", "view", "findings", "facts", "companions")

    def __init__(self, layer: Layer, view: object | None, findings: list[Finding] | None = None,
                 facts: dict | None = None, companions: dict[str, bytes] | None = None) -> None:
        self.layer, self.view = layer, view
        self.findings = [] if findings is None else findings
        self.facts = {} if facts is None else facts
        self.companions = {} if companions is None else companions


class Context:
    """Per-analysis state shared by the layers: limits and the decoded views made."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.decoded: list[tuple[Layer | None, DecodedView]] = []

    def decoded_view(self, factory, parent, what: str, layer: Layer | None = None,
                     declared_length: int | None = None) -> DecodedView:
        """A new decoded view; ``layer`` gets ``decoded_size`` (and ``trailing_bytes``)
        in its details once they are known (see ``finish``)."""
        view = DecodedView(factory, parent, self.limits, what, declared_length)
        self.decoded.append((layer, view))
        return view

    def finish(self) -> list[Finding]:
        """Decode to the end when the limits ask for it; record what became known;
        return the decoders' findings, innermost last."""
        findings: list[Finding] = []
        for layer, view in self.decoded:
            if self.limits.decode_all and not view.failed:
                view.finish()
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
