"""Bounded, read-only access to an input file.

Nothing reads a whole image into memory: callers ask for byte ranges (the banner search,
validator.banner, streams fixed-size chunks through one buffer).
"""

from __future__ import annotations

import os
import stat


class InputError(Exception):
    """The input cannot be read as a file (missing, a directory, unreadable)."""


def open_regular(path: str | os.PathLike, dir_fd: int | None = None,
                 what: str = "") -> tuple[int, os.stat_result]:
    """Open ``path`` read-only without blocking and return (fd, stat) of a regular file.

    The open itself never blocks: O_NONBLOCK keeps a FIFO's open from waiting for a
    writer (and a device's from waiting for carrier), O_NOCTTY keeps a terminal from
    becoming ours; the file type is checked on the open descriptor (no race with a
    rename) and anything but a regular file is refused before a byte is read. O_NONBLOCK
    is then cleared: it means nothing to a regular file's reads. ``InputError`` carries
    one line naming the path (``what`` says what it was, e.g. "--config").
    """
    name = f"{what} {os.fspath(path)}" if what else os.fspath(path)
    flags = (os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0))
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{name}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{name}: {_KINDS.get(stat.S_IFMT(st.st_mode), 'not a regular file')}")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


_KINDS = {stat.S_IFDIR: "is a directory",
          stat.S_IFIFO: "a FIFO, not a regular file: refused before reading",
          stat.S_IFCHR: "a character device, not a regular file: refused before reading",
          stat.S_IFBLK: "a block device, not a regular file: refused before reading",
          stat.S_IFSOCK: "a socket, not a regular file: refused before reading"}


class Source:
    """A regular file opened read-only, with its size fixed at open time."""

    CHUNK = 1 << 20
    #: The first bytes of the file are read once, in one read, and the small reads of the
    #: headers in them (a dozen for an arm64 Image with its PE header) are served from there.
    HEAD = 4096

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        fd, st = open_regular(self.path)
        self._file = os.fdopen(fd, "rb", buffering=0)
        self.size = st.st_size
        self.bytes_read = 0  # bytes the reads asked for so far (for budgets and benchmarks)
        self._head: bytes | None = None

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``; fewer at the end of the file."""
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        length = min(length, self.size - offset)
        if offset + length <= self.HEAD:
            head = self._head
            if head is None:
                head = self._head = self._pread(0, min(self.HEAD, self.size))
            if offset + length <= len(head):
                self.bytes_read += length  # counted as the reads it stands for
                return head[offset:offset + length]
        data = self._pread(offset, length)
        self.bytes_read += len(data)
        return data

    def _pread(self, offset: int, length: int) -> bytes:
        try:
            return os.pread(self._file.fileno(), length, offset)
        except OSError as exc:
            raise InputError(f"{self.path}: read error at {offset:#x}: {exc.strerror}") from None

    def file(self):
        """The underlying binary file object (for libraries that want a stream)."""
        return self._file

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

