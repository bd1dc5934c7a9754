"""Byte views (see the package docstring): ``View`` (a window on the input file),
``SliceView`` (a window on a decoded stream, e.g. a tar member of a decoded archive),
``ViewFile`` (what tarfile, zstandard and pefile read), and the bounded pattern search
every view's ``scan`` uses."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import Protocol

    from validator.io.decoded import DecodedView
    from validator.io.source import Source

    class ByteView(Protocol):
        source: Source

        def read(self, offset: int, length: int) -> bytes: ...

#: The largest read a ViewFile hands on at once (a caller's read(n) is filled to n, up to
#: this, from views whose own reads are shorter, as a DecodedView's are).
MAX_FILE_READ = 16 << 20
WINDOW = 1 << 20


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



class BytesView:
    """Bytes already in memory as a view (what a builder decodes: the seed corpus's
    ``decompress``, bounded by its caller)."""

    transformed = True
    base = None
    source = None

    def __init__(self, data: bytes):
        self._data = data
        self.length = len(data)

    @property
    def known_length(self) -> int:
        return self.length

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            return b""
        return self._data[offset:offset + length]


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

    def block(self, offset: int, length: int) -> bytes:
        """As ``DecodedView.block``: no further than the parent's chunk ends."""
        if offset < 0 or offset >= self.length:
            return b""
        read = getattr(self.parent, "block", self.parent.read)
        return read(self.offset + offset, min(length, self.length - offset))

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
        """Up to ``n`` bytes (at most ``MAX_FILE_READ``), fewer only at the end: a
        decoded view's own reads are shorter than its window, and tarfile takes a short
        read of an extended header for the end of the archive."""
        if n is None or n < 0:
            n = WINDOW
        n = min(n, MAX_FILE_READ)
        if self._limit is not None:
            n = min(n, self._limit - self._pos)
        data = bytes(read_all(self._view, self._pos, n)) if n > 0 else b""
        self._pos += len(data)
        return data

    def readinto(self, buf) -> int:
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def close(self) -> None:
        pass


def read_all(view, pos: int, size: int) -> bytes | bytearray:
    """``size`` bytes at ``pos`` of ``view`` (fewer only at its end): a decoded view hands
    out less than its window per read. Filled into one buffer (a bytearray then), so that
    a large read costs its size once. The caller bounds ``size``."""
    first = view.read(pos, size)
    if len(first) >= size or not first:
        return first
    buf = bytearray(size)
    got = len(first)
    buf[:got] = first
    del first
    while got < size:
        chunk = view.read(pos + got, size - got)
        if not chunk:
            del buf[got:]
            break
        buf[got:got + len(chunk)] = chunk
        got += len(chunk)
    return buf


def _length(view) -> int:
    return view.length


def _scan(view, pattern: re.Pattern[bytes], max_match: int, budget: int | None):
    """First match of ``pattern`` in ``view``; stops once ``budget`` bytes of the input
    file were read (None: no budget). Returns a match-like object or None."""
    source = view.source
    start_read = getattr(source, "bytes_read", 0)
    offset = 0
    tail = b""  # the bytes before ``offset`` where a match the last chunk cut may begin
    step = 64 * 1024  # small, so that a budget is overrun by little
    read = getattr(view, "block", view.read)  # a decoded stream: a chunk as decoded
    while True:
        chunk = read(offset, step)
        if not chunk:
            return None
        # A match that begins in the tail comes first; else the chunk is searched where it
        # lies (the tail and the chunk joined cost a copy of every byte searched).
        m = pattern.search(tail + chunk[:2 * max_match]) if tail else None
        if m and m.start() < len(tail):
            return _Match(m, offset - len(tail))
        m = pattern.search(chunk)
        if m:
            return _Match(m, offset)
        tail = (tail + chunk)[-max_match:] if len(chunk) < max_match else chunk[-max_match:]
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


