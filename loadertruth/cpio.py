"""The newc cpio archive a guest's initramfs is made of (the kernel's
Documentation/driver-api/early-userspace/buffer-format.rst)."""

from __future__ import annotations

import io


def cpio_newc(entries: list[tuple[str, int, bytes, int, int]]) -> bytes:
    """A newc cpio archive: (name, mode, data, rdev major, rdev minor) per entry."""
    out = io.BytesIO()

    def pad(n: int) -> None:
        out.write(b"\0" * ((4 - n % 4) % 4))

    for ino, (name, mode, data, major, minor) in enumerate(
            [*entries, ("TRAILER!!!", 0, b"", 0, 0)], start=1):
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            ino if name != "TRAILER!!!" else 0, mode, 0, 0, 1, 0, len(data), 0, 0,
            major, minor, len(nb), 0))
        out.write(hdr.encode())
        out.write(nb)
        pad(110 + len(nb))
        out.write(data)
        pad(len(data))
    return out.getvalue()


#: the file types of a newc entry's mode (<sys/stat.h>)
S_IFDIR, S_IFREG, S_IFCHR, S_IFLNK = 0o040000, 0o100000, 0o020000, 0o120000
