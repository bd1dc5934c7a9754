"""Bounded, read-only access to an input file.

Nothing reads a whole image into memory: callers ask for byte ranges (the banner search,
validator.banner, streams fixed-size chunks through one buffer).
"""

from __future__ import annotations

import os
import stat


class InputError(Exception):
    """The input cannot be read as a file (missing, a directory, unreadable)."""


class Source:
    """A regular file opened read-only, with its size fixed at open time."""

    CHUNK = 1 << 20

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise InputError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{self.path}: is a directory") from None
        except PermissionError:
            raise InputError(f"{self.path}: permission denied") from None
        except OSError as exc:
            raise InputError(f"{self.path}: {exc.strerror or exc}") from None
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            os.close(fd)
            raise InputError(f"{self.path}: is a directory")
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise InputError(f"{self.path}: not a regular file")
        self._file = os.fdopen(fd, "rb", buffering=0)
        self.size = st.st_size
        self.bytes_read = 0  # bytes read from the file so far (for budgets and benchmarks)

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``; fewer at the end of the file."""
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        length = min(length, self.size - offset)
        try:
            data = os.pread(self._file.fileno(), length, offset)
        except OSError as exc:
            raise InputError(f"{self.path}: read error at {offset:#x}: {exc.strerror}") from None
        self.bytes_read += len(data)
        return data

    def file(self):
        """The underlying binary file object (for libraries that want a stream)."""
        return self._file

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

