"""``-`` as an IMAGE of check and inspect: the image is read from standard input.

Standard input redirected from a regular file is read where it is (reopened through
/proc/self/fd, from its start). Anything else (a pipe, a socket) is copied, 1 MiB at a
time, into an unlinked temporary file in $TMPDIR, at most ``MAX_STDIN`` bytes, and that
file is analysed: the pipeline reads byte ranges, out of order, which a pipe cannot give.
A terminal is refused (nothing to read). The report names the image ``-``.
"""

from __future__ import annotations

import os
import stat

from validator.commands import STDIN
from validator.io.source import InputError

NAME = STDIN
MAX_STDIN = 4 << 30
CHUNK = 1 << 20


def stdin_path():
    """A path whose bytes are standard input's; ``relabel`` turns it back into ``-``.
    (``contextlib`` is imported when standard input is read: not on a check's path.)"""
    from contextlib import contextmanager

    return contextmanager(_stdin_path)()


def _stdin_path():
    try:
        st = os.fstat(0)
    except OSError:
        raise InputError(f"{NAME}: standard input is closed") from None
    if stat.S_ISREG(st.st_mode):
        path = "/proc/self/fd/0"
        if _reopens(path):
            yield path
            return
    elif os.isatty(0):
        raise InputError(f"{NAME}: standard input is a terminal; redirect or pipe an image "
                         f"into it")
    with _spool() as fd:
        yield f"/proc/self/fd/{fd}"


def _reopens(path: str) -> bool:
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC))
    except OSError:
        return False
    return True


def _spool():
    from contextlib import contextmanager

    return contextmanager(_spooled)()


def _spooled():
    import tempfile

    try:
        spool = tempfile.TemporaryFile(prefix="kimage-stdin-")  # noqa: SIM115 (with below)
    except OSError as exc:
        raise InputError(f"{NAME}: cannot make a temporary file for standard input: "
                         f"{exc.strerror or exc}") from None
    with spool:
        total = 0
        try:
            while True:
                block = os.read(0, CHUNK)
                if not block:
                    break
                total += len(block)
                if total > MAX_STDIN:
                    raise InputError(f"{NAME}: more than {MAX_STDIN >> 30} GiB on standard "
                                     f"input; give the file's path instead")
                spool.write(block)
            spool.flush()
        except OSError as exc:
            raise InputError(f"{NAME}: cannot read standard input: "
                             f"{exc.strerror or exc}") from None
        if not os.path.exists(f"/proc/self/fd/{spool.fileno()}"):
            raise InputError(f"{NAME}: reading standard input needs /proc")
        yield spool.fileno()


def relabel(text: str, path: str) -> str:
    return text.replace(path, NAME)


def analysed(path: str, analyse):
    """``analyse(path)`` for a path of the command line, ``-`` included; an
    ``InputError`` or the result names ``-``, not the file it was read through."""
    if path != NAME:
        return analyse(path)
    with stdin_path() as proxy:
        try:
            result = analyse(proxy)
        except InputError as exc:
            raise InputError(relabel(str(exc), proxy)) from None
    result.path = NAME
    for f in result.findings:
        f.message = relabel(f.message, proxy)
    return result
