"""The plain tar header, read without ``tarfile``: what a package's data.tar is made of.

A linux-image data.tar holds thousands of members (Debian 12's arm64 6.1: 5184), and
``tarfile`` spends about 250,000 instructions on each header (its field helpers, its
checksum over 504 Python ints), a sixth of what liblzma spends decoding the archive.
``plain`` reads the one kind of header whose meaning leaves no choice, and gives what
``tarfile`` would give for it; anything else is handed to ``tarfile`` (the walk in
``validator.formats.deb.tar``), so that what kimage reports never depends on which read it:

* a full 512-byte block, not all zeros, with the ustar or GNU magic;
* a typeflag of ``0``, ``1`` to ``6`` or ``7`` (no extended, sparse or V7 header);
* every numeric field kimage or ``tarfile`` reads written as octal digits ended by NUL
  (or filling the field), so that ``tarfile.nti`` would read the same number;
* the unsigned checksum (POSIX.1-1988 ustar: the header's bytes summed with the
  checksum field as spaces) equal to the checksum field.

What ``tarfile`` (CPython 3.11 ``TarInfo.frombuf`` and ``_proc_builtin``) makes of such a
header is repeated: the name decoded as ``tarfile`` decodes it, the ustar prefix joined
before it (``tarfile`` joins buf[345:500] for every header that is no GNU long-name
one), a directory's trailing slashes removed, and the data skipped only for a regular
file (``0``, ``7``): a link, device, directory or FIFO's size field is reported and not
skipped.
"""

from __future__ import annotations

import re

BLOCK = 512
MAGICS = (b"ustar\x0000", b"ustar  \x00")
#: typeflag -> kind (as ``tar._kind``), and whether the member's data follows.
TYPES = {b"0": ("file", True), b"7": ("file", True), b"1": ("hardlink", False),
         b"2": ("symlink", False), b"3": ("other", False), b"4": ("other", False),
         b"5": ("other", False), b"6": ("other", False)}
#: mode, uid, gid, size, mtime, chksum, devmajor, devminor
FIELDS = ((100, 108), (108, 116), (116, 124), (124, 136), (136, 148), (148, 156),
          (329, 337), (337, 345))
_OCTAL = re.compile(rb"([0-7]*)(?:\0[\x00-\xff]*)?")
_ENCODING = None


def _encoding() -> str:
    global _ENCODING
    if _ENCODING is None:
        import tarfile

        _ENCODING = tarfile.ENCODING
    return _ENCODING


def _text(field: bytes) -> str:
    """``tarfile.nts`` with the encoding and errors of an archive opened for reading."""
    end = field.find(b"\0")
    return (field if end < 0 else field[:end]).decode(_encoding(), "surrogateescape")


def plain(block: bytes) -> tuple[str, str, int, str, bool] | None:
    """(name, kind, size, link name, data follows) of a plain header, else None (the
    caller asks ``tarfile``)."""
    if len(block) != BLOCK or block[257:265] not in MAGICS:
        return None
    kind = TYPES.get(block[156:157])
    if kind is None:
        return None
    numbers = []
    for lo, hi in FIELDS:
        m = _OCTAL.fullmatch(block, lo, hi)
        if m is None:
            return None
        numbers.append(int(m.group(1) or b"0", 8))
    if numbers[5] != 256 + sum(block[:148]) + sum(block[156:]):
        return None
    name = _text(block[0:100])
    directory = block[156:157] == b"5"
    if directory:
        name = name.rstrip("/")
    prefix = _text(block[345:500])
    if prefix:
        name = prefix + "/" + name
        if directory:  # as _proc_builtin strips it again
            name = name.rstrip("/")
    return name, kind[0], numbers[3], _text(block[157:257]), kind[1]
