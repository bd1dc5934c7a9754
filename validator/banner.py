"""The kernel's own version banner (``linux_banner``, init/version.c)."""

from __future__ import annotations

import os

from validator.io.source import InputError, Source

# "Linux version 6.1.0-50-arm64 (debian-kernel@...) (gcc ...) #1 SMP ..." The release
# is followed by " (" in every banner since 2.6; printk formats ("Linux version %s")
# do not match because a digit must follow. A banner is what the expression
# rb"Linux version (\d+\.\d+[\x21-\x7e]*) \(" matches, its release the group; it is
# recognised without ``re`` (whose compiler costs a check's start-up more than the search).
PREFIX = b"Linux version "
#: Longest banner match the search finds across a chunk border.
MAX_MATCH = 256
#: The bytes a release may hold: printable ASCII but the space.
_RELEASE_BYTES = bytes(range(0x21, 0x7F))
#: Bytes read at a time from a raw file, into one reused buffer.
CHUNK = 256 * 1024


class _Finder:
    """The banner search, as a pattern's ``search`` (``scan`` of views that decode)."""

    @staticmethod
    def search(buf):
        return _search(buf, 0, len(buf))


FINDER = _Finder()


class Found:
    """A banner found at ``at`` in a buffer, read as a match: ``group(0)`` is
    ``Linux version RELEASE (``, ``group(1)`` the release; ``start`` their offsets."""

    __slots__ = ("at", "release")

    def __init__(self, at: int, release: bytes) -> None:
        self.at, self.release = at, release

    def group(self, *groups):
        values = tuple(self.release if g == 1 else PREFIX + self.release + b" ("
                       for g in (groups or (0,)))
        return values[0] if len(values) == 1 else values

    def start(self, group: int = 0) -> int:
        return self.at + (len(PREFIX) if group == 1 else 0)


def _search(buf, start: int, end: int) -> Found | None:
    at = buf.find(PREFIX, start, end)
    while at >= 0:
        release = _release_at(buf, at + len(PREFIX), end)
        if release is not None:
            return Found(at, release)
        at = buf.find(PREFIX, at + 1, end)
    return None


def _release_at(buf, first: int, end: int) -> bytes | None:
    """The release that starts at ``first`` (just after the prefix) when a banner is
    there: digits, a dot, a digit, more printable non-space bytes, then " (" before
    ``end``; else None. A release is at most ``MAX_MATCH`` bytes (the kernel's is 64)."""
    space = buf.find(b" ", first, min(end, first + MAX_MATCH))
    if space < 0 or space + 2 > end or buf[space + 1] != 0x28:  # "("
        return None
    release = bytes(buf[first:space])
    major, dot, rest = release.partition(b".")
    if not (dot and major.isdigit() and rest[:1].isdigit()):
        return None
    return None if release.translate(None, _RELEASE_BYTES) else release


def kernel_version(source, start: int = 0, end: int | None = None) -> str | None:
    """The release string of the first banner in ``source`` (a ``Source``, or a view
    with ``scan``), or None.

    For a ``Source``, ``start`` and ``end`` bound the search to a byte range of the file
    (e.g. an ELF vmlinux's .rodata, where linux_banner is); by default the whole file.
    """
    if isinstance(source, Source):
        return _scan_file(source, start, source.size if end is None else end)
    m = source.scan(FINDER)
    return m.group(1).decode("ascii") if m else None


def _scan_file(source: Source, start: int, end: int) -> str | None:
    """The banner search through ``[start, end)`` of a raw file.

    The banner sits in .rodata, about 40% into a 6.1 Image or vmlinux, so this reads
    that much of the file, and all of a file without a banner. It reads ``CHUNK`` bytes
    at a time into one buffer (``preadv``) and searches it in place: a new bytes object
    per read, and a regular expression over it, cost twice the time (bench/). Memory
    is the one buffer, whatever the file's size, and no larger than the range searched
    (a new buffer is zeroed: lint makes one an image, most of them a few KiB). Holes of
    a sparse file (SEEK_DATA) are passed without reading them: a banner holds no zero
    byte.
    """
    fd = source.file().fileno()
    offset = max(0, start)
    end = min(end, source.size)
    if offset >= end:
        return None
    buf = bytearray(min(CHUNK, end - offset) + MAX_MATCH)
    view = memoryview(buf)
    keep = 0  # bytes carried over from the previous chunk
    try:
        while offset < end:
            data = _data_from(fd, offset, end)
            if data >= end:
                return None
            if data > offset:  # a hole: no banner in it, nor across it
                offset, keep = data, 0
            n = os.preadv(fd, [view[keep:keep + min(CHUNK, end - offset)]], offset)
            if n <= 0:
                return None
            source.bytes_read += n
            filled = keep + n
            m = _search(buf, 0, filled)
            if m:
                return m.group(1).decode("ascii")
            keep = min(MAX_MATCH, filled)
            buf[:keep] = buf[filled - keep:filled]
            offset += n
    except OSError as exc:  # as Source.read reports it
        raise InputError(f"{source.path}: read error at {offset:#x}: {exc.strerror}") from None
    finally:
        view.release()
    return None


def _data_from(fd: int, offset: int, end: int) -> int:
    """The first offset at or after ``offset`` that is not in a hole (``end`` when only
    a hole is left); ``offset`` where the file system cannot tell."""
    try:
        return os.lseek(fd, offset, _SEEK_DATA)
    except OSError as exc:
        import errno

        return end if exc.errno == errno.ENXIO else offset


#: lseek's "next data" whence (Linux, the BSDs, Solaris); where there is none, every
#: byte counts as data.
_SEEK_DATA = getattr(os, "SEEK_DATA", os.SEEK_SET)
