"""What ``--initrd`` is, as the kernel's initramfs unpacker would see it; bounded.

Linux init/initramfs.c ``unpack_to_rootfs`` reads the initrd as a sequence of: newc
cpio archives (magic "070701", or "070702" with checksums; "070707", the odc format, is
refused with "incorrect cpio method used: use -H newc option"), zero bytes between them,
and compressed streams recognised by their first two bytes (lib/decompress.c
``compressed_formats``). A newc header is 110 ASCII bytes: the magic and thirteen
8-digit hex fields, c_filesize at offset 54 and c_namesize at 94; the name follows,
padded so that header and name end 4-byte aligned, then the data, padded to 4
(Documentation/driver-api/early-userspace/buffer-format.rst). "TRAILER!!!" ends an
archive. An early microcode cpio before a compressed main one is the usual layout.

``probe(path)`` walks the plain archives header by header (never reading their data)
and stops at the first compressed stream, whose contents it does not check. It never
returns the file's bytes: ``format`` and ``problem`` are summaries.
"""

from __future__ import annotations

import errno
import os

COMPRESSED = {b"\x1f\x8b": "gzip", b"\x1f\x9e": "gzip", b"BZ": "bzip2",
              b"\x5d\x00": "lzma", b"\xfd\x37": "xz", b"\x89\x4c": "lzo",
              b"\x02\x21": "lz4", b"\x28\xb5": "zstd"}
NEWC = {b"070701": "newc", b"070702": "newc+crc"}
MAX_ENTRIES = 1 << 17  # headers walked before the rest is taken on trust
MAX_ZEROS = 16 << 20  # zero bytes read between archives (holes are skipped, not read)
_HEX = frozenset(b"0123456789abcdefABCDEF")


def probe(path: str) -> dict:
    """{"path", "size", "format", "problem"} of an initrd; InputError if unreadable."""
    from validator.source import InputError, open_regular

    fd, st = open_regular(path, what="--initrd")
    try:
        parts, problem = _walk(fd, st.st_size)
    except OSError as exc:
        raise InputError(f"--initrd {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    fmt = " + ".join(parts) or ("empty" if st.st_size == 0 else "unknown")
    if st.st_size == 0:
        problem = "empty file"
    elif not parts and not problem:
        problem = "only zero bytes: no cpio archive"
    return {"path": path, "size": st.st_size, "format": fmt, "problem": problem}


def _walk(fd: int, size: int) -> tuple[list[str], str]:
    parts: list[str] = []
    pos = 0
    zeros = 0
    while pos < size:
        head = os.pread(fd, 6, pos)
        if head[:1] == b"\0":
            pos, zeros = _skip_zeros(fd, pos, size, zeros)
            if zeros > MAX_ZEROS:
                return parts, f"more than {MAX_ZEROS >> 20} MiB of zero bytes"
            continue
        if head[:1] == b"0" and pos % 4 == 0:
            if head == b"070707":
                return parts, (f"odc cpio (070707) at offset {pos:#x}: the kernel takes "
                               f"only newc (070701, 070702)")
            if head not in NEWC:
                return parts, f"no cpio magic at offset {pos:#x}"
            pos, entries, problem = _archive(fd, pos, size)
            parts.append(f"cpio ({NEWC[head]}, {entries} entries)")
            if problem or pos is None:
                return parts, problem
            continue
        kind = COMPRESSED.get(head[:2])
        if kind is None:
            where = "" if pos == 0 else f" at offset {pos:#x}"
            return parts, f"not cpio{where}: no cpio or compression magic"
        parts.append(kind)
        return parts, ""  # its contents (and anything after) are not examined
    return parts, ""


def _skip_zeros(fd: int, pos: int, size: int, zeros: int) -> tuple[int, int]:
    """Past the zero bytes at ``pos``: holes by SEEK_DATA, written zeros by reading."""
    try:
        data = os.lseek(fd, pos, os.SEEK_DATA)
    except AttributeError:  # no SEEK_DATA here
        data = pos
    except OSError as exc:  # ENXIO: a hole to the end of the file
        data = size if exc.errno == errno.ENXIO else pos
    if data > pos:
        return data, zeros
    chunk = os.pread(fd, 64 << 10, pos)
    run = len(chunk) - len(chunk.lstrip(b"\0"))
    return pos + run, zeros + run


def _archive(fd: int, pos: int, size: int) -> tuple[int | None, int, str]:
    """Walk one newc archive from ``pos`` to past its trailer: (end, entries, problem)."""
    for entries in range(1, MAX_ENTRIES + 1):
        header = os.pread(fd, 110, pos)
        if len(header) < 110:
            return None, entries - 1, f"cpio archive cut short at offset {pos:#x}"
        if header[:6] not in NEWC or not _HEX.issuperset(header[6:110]):
            return None, entries - 1, f"malformed cpio header at offset {pos:#x}"
        body = int(header[54:62], 16)
        name_len = int(header[94:102], 16)
        name_end = pos + 110 + name_len
        data = (name_end + 3) & ~3
        end = (data + body + 3) & ~3
        if end > size + 3:
            return None, entries - 1, f"cpio archive cut short at offset {pos:#x}"
        if name_len == 11 and os.pread(fd, 11, pos + 110) == b"TRAILER!!!\0":
            return end, entries - 1, ""
        pos = end
    return None, MAX_ENTRIES, ""  # long enough: the rest is taken on trust
