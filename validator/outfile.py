"""Files kimage writes on request (``--output FILE``, ``--write-baseline FILE``).

Checked before anything is read (``check_target``): an existing FILE must be a regular
file (not a FIFO, a device, a directory or a symbolic link, which a rename would replace
by name) and must not be one of the inputs named on the command line. Written atomically
(``AtomicFile``): into a new temporary file beside FILE, flushed to disk, then renamed
over it, so a reader sees the old report or the new one, never half of one; a run that
fails leaves FILE as it was.
"""

from __future__ import annotations

import os
import stat


class OutputError(Exception):
    """FILE cannot be written (one line naming it)."""


def check_target(path: str, option: str, inputs=()) -> None:
    """Raise OutputError when ``path`` may not be written (see the module)."""
    name = f"{option} {path}"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"{name}: {(exc.strerror or str(exc)).lower()}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise OutputError(f"{name}: a symbolic link; give the file it points to")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{name}: exists and is not a regular file")
        for given in inputs:
            try:
                other = os.stat(given)
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                raise OutputError(f"{name}: is an input ({given}); give another file")
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise OutputError(f"{name}: no such directory {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{name}: cannot write in {parent}: permission denied")


class AtomicFile:
    """A text file written under a temporary name beside ``path`` and renamed over it by
    ``commit``; ``discard`` removes it. Mode as a new file gets (0666 less the umask)."""

    def __init__(self, path: str, option: str) -> None:
        import secrets

        self.path, self.option = path, option
        directory, base = os.path.split(path)
        self.tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                 | getattr(os, "O_CLOEXEC", 0))
        try:
            fd = os.open(self.tmp, flags, 0o666)
        except OSError as exc:
            raise OutputError(f"{option} {path}: cannot write: "
                              f"{(exc.strerror or str(exc)).lower()}") from None
        self.file = os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape",
                              newline="\n")

    def write(self, text: str) -> None:
        self.file.write(text)

    def commit(self) -> None:
        """Flush, then rename over ``path`` (checked again just before: still no
        symbolic link or non-regular file there)."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            check_target(self.path, self.option)
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self.option} {self.path}: cannot write: "
                              f"{(exc.strerror or str(exc)).lower()}") from None
        except OutputError:
            self.discard()
            raise

    def discard(self) -> None:
        import contextlib  # here: every report in a CI format imports this module

        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)
