"""The rpm database of a host (rpm 4.16+'s sqlite backend, the default on Fedora 33+ and
RHEL 9): which version of a package is installed, read-only and bounded.

``rpmdb.sqlite`` (``/usr/lib/sysimage/rpm/`` on Fedora 36+, where ``/var/lib/rpm`` links
to it; ``/var/lib/rpm/`` before) has a ``Packages`` table (``hnum``, ``blob``: each
installed package's header as ``headerExport`` writes it, read with
``validator.formats.rpm.header.parse_blob``) and one index table per tag, ``Name``
(``key``, ``hnum``) among them (rpm-4.18.0 lib/backend/sqlite.c). The file is opened
through ``HostFS`` (inside the root), then by sqlite as ``/proc/self/fd/N`` with
``mode=ro&immutable=1``: nothing is written, no lock is taken and no ``-wal``/``-shm``
file is made or read beside the host's database (a transaction rpm has not checkpointed
is not seen). sqlite's page cache is held to 2 MiB and its work to a fixed number of
virtual-machine steps, so a hostile or huge database costs bounded time and memory.
The older Berkeley DB ``Packages`` and SUSE's ``Packages.db`` (ndb) are not read.
"""

from __future__ import annotations

import os
import stat

#: Where rpm keeps its database, newest layout first.
PATHS = ("/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")
#: The older backends' files (rpm < 4.16's Berkeley DB, SUSE's ndb): named, not read.
OTHER = ("/var/lib/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db",
         "/var/lib/rpm/Packages.db")
#: The largest database opened (a full Fedora workstation's: ~150 MiB).
MAX_SIZE = 1 << 30
#: Headers of one name read (a name is installed once; kernels a few times).
MAX_MATCHES = 16
#: sqlite virtual-machine steps before a query is interrupted (progress handler, called
#: every 1000 steps).
MAX_STEPS = 20_000


class Installed:
    """What the database says of one name: ``versions`` ("[E:]V-R" of each installed
    header, in install order), ``path`` (the database read), ``why`` (None, or why
    nothing could be read), ``odd`` (the database is malformed, not merely absent)."""

    __slots__ = ("versions", "path", "why", "odd")

    def __init__(self, path: str | None, why: str | None = None, odd: bool = False):
        self.versions: list[str] = []
        self.path, self.why, self.odd = path, why, odd


def installed(fs, name: str) -> Installed | None:
    """The installed versions of ``name`` in the host's rpm database; None when the host
    has none."""
    from validator.kdump.hostfs import Unreadable

    for path in PATHS:
        try:
            fd = fs.open(path)
        except Unreadable as exc:
            if exc.odd:
                return Installed(path, exc.why, True)
            continue
        try:
            return _query(fd, path, name)
        finally:
            os.close(fd)
    for path in OTHER:
        try:
            os.close(fs.open(path))
        except Unreadable:
            continue
        return Installed(path, "an rpm database kimage does not read (Berkeley DB or "
                         "ndb; it reads rpmdb.sqlite)")
    return None


def _query(fd: int, path: str, name: str) -> Installed:
    import sqlite3

    from validator.formats.rpm import EPOCH, NAME, RELEASE, VERSION, header

    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SIZE:
        return Installed(path, f"{st.st_size} bytes, more than the {MAX_SIZE >> 20} MiB "
                         f"kimage opens", True)
    result = Installed(path)
    steps = [0]

    def progress() -> int:
        steps[0] += 1
        return 1 if steps[0] > MAX_STEPS else 0

    try:
        db = sqlite3.connect(f"file:/proc/self/fd/{fd}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        return Installed(path, f"sqlite cannot open it: {exc}", True)
    try:
        db.set_progress_handler(progress, 1000)
        db.execute("PRAGMA cache_size = -2048")
        hnums = [row[0] for row in db.execute(
            "SELECT hnum FROM Name WHERE key = ? ORDER BY hnum LIMIT ?",
            (name, MAX_MATCHES))]
        for hnum in hnums:
            row = db.execute("SELECT length(blob) FROM Packages WHERE hnum = ?",
                             (hnum,)).fetchone()
            if row is None or row[0] is None or row[0] > header.MAX_STORE + (1 << 20):
                return Installed(path, f"package {hnum}: its header is missing or larger "
                                 f"than kimage reads", True)
            blob = db.execute("SELECT blob FROM Packages WHERE hnum = ?",
                              (hnum,)).fetchone()[0]
            h = header.parse_blob(bytes(blob), f"{path} package {hnum}")
            if h.string(NAME) != name:
                continue  # the index names it, the header does not: not trusted
            epochs, version, release = h.ints(EPOCH), h.string(VERSION), h.string(RELEASE)
            epoch = epochs[0] if epochs else None
            if not isinstance(version, str) or not isinstance(release, str):
                return Installed(path, f"package {hnum}: no VERSION or RELEASE", True)
            result.versions.append(f"{'' if epoch is None else f'{epoch}:'}{version}-"
                                   f"{release}")
    except header.HeaderError as exc:
        return Installed(path, exc.message, True)
    except sqlite3.Error as exc:
        why = ("more work than kimage allows for one query" if steps[0] > MAX_STEPS
               else str(exc))
        return Installed(path, f"not an rpm database kimage reads: {why}", True)
    finally:
        db.close()
    return result
