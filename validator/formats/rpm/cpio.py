"""The cpio archive of an rpm payload, walked forward and bounded (member data skipped,
never extracted).

rpm writes SVR4 "newc" members (magic "070701", thirteen 8-digit hex fields, the name,
padding to 4 bytes, the data, padding to 4; "TRAILER!!!" ends it), and for a package with
a file of 4 GiB or more the "stripped" member "07070X" + the file's 8-digit index in the
header's file list, the rest from the header (rpm-4.18.0 lib/cpio.c
``rpmcpioHeaderRead``/``rpmcpioStrippedHeaderWrite``). Of a hard-linked set rpm writes
the data with the set's last member only (lib/fsm.c, the ``nlink`` countdown); the
earlier ones have size 0.
"""

from __future__ import annotations

import posixpath

from validator.catalogue import finding
from validator.formats.compression import layer_rules  # noqa: F401 (the layer/* rules)
from validator.formats.rpm import CPIO_CRC, CPIO_NEWC, CPIO_STRIPPED

NEWC_HEADER = 110
TRAILER = "TRAILER!!!"
#: The longest member name read (PATH_MAX).
MAX_NAME = 4096
#: Members walked before the walk stops (a kernel-modules package has a few thousand).
MAX_MEMBERS = 100_000


def _pad4(n: int) -> int:
    return -n % 4


class Walk:
    """One forward pass: ``members()`` yields ``(index, path, mode, size, offset, ino,
    nlink)`` (path normalised, relative to the root). ``files``: for stripped members,
    index -> (path, size, mode) from the header. Afterwards ``count`` is the number of
    members, ``finding`` what stopped the walk (or None), ``ended`` True at the trailer."""

    def __init__(self, view, files=None):
        self.view = view
        self.files = files
        self.count = 0
        self.finding = None
        self.ended = False

    def _stop(self, rule_id: str, message: str, pos: int) -> None:
        if not getattr(self.view, "failed", False):  # else the decoder's finding says why
            self.finding = finding(rule_id, f"cpio payload at {pos:#x} (after {self.count} "
                                   f"members): {message}", offset=None)

    def members(self):
        view = self.view
        pos = 0
        while True:
            head = view.read(pos, NEWC_HEADER)
            magic = head[:6]
            if magic == CPIO_STRIPPED:
                item = self._stripped(head, pos)
                if item is None:
                    return
                path, size, mode, data = item
                ino, nlink = self.count, 1
            elif magic in (CPIO_NEWC, CPIO_CRC):
                if len(head) < NEWC_HEADER:
                    self._stop("layer/truncated", "a member header is cut short", pos)
                    return
                try:
                    fields = [int(head[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
                except ValueError:
                    self._stop("layer/corrupt", "a member header's fields are not hex", pos)
                    return
                ino, mode, nlink, size, namesize = (fields[0], fields[1], fields[4],
                                                    fields[6], fields[11])
                if not 1 <= namesize <= MAX_NAME:
                    self._stop("layer/corrupt", f"a name of {namesize} bytes", pos)
                    return
                raw = view.read(pos + NEWC_HEADER, namesize)
                if len(raw) < namesize:
                    self._stop("layer/truncated", "a member name is cut short", pos)
                    return
                name = raw.rstrip(b"\0").decode("utf-8", "surrogateescape")
                if name == TRAILER:
                    self.ended = True
                    return
                path = posixpath.normpath("/" + name).lstrip("/")
                data = pos + NEWC_HEADER + namesize
                data += _pad4(data)
            else:
                if not head and not getattr(view, "failed", False):
                    self._stop("layer/truncated", "the archive ends without its trailer",
                               pos)
                elif head:
                    self._stop("layer/corrupt", f"no cpio member magic ({bytes(magic)!r})",
                               pos)
                return
            self.count += 1
            if self.count > MAX_MEMBERS:
                self.finding = finding("layer/decompression-limit",
                                       f"more than {MAX_MEMBERS} cpio members")
                return
            yield self.count - 1, path, mode, size, data, ino, nlink
            pos = data + size + _pad4(size)

    def _stripped(self, head: bytes, pos: int):
        if len(head) < 14:
            self._stop("layer/truncated", "a stripped member header is cut short", pos)
            return None
        try:
            index = int(head[6:14], 16)
        except ValueError:
            self._stop("layer/corrupt", "a stripped member's file index is not hex", pos)
            return None
        entry = None if self.files is None else self.files(index)
        if entry is None:
            self._stop("layer/corrupt", f"a stripped member names file {index}, which the "
                       f"header's file list does not hold", pos)
            return None
        path, size, mode = entry
        return path, size, mode, pos + 16  # 14 bytes, padded to 4
