"""An image as a base plus patches, the way a guest receives its test images: a base is
shipped once as its data extents (a sparse file's zeros are left out: ``encode_base``),
and each image as the (offset, bytes) patches that turn the base, cut or zero-extended to
the image's size, into it (``diff_patches``). ``decode_base`` and ``apply_patches`` do
what the guest does in C (loadertruth/guest/kexec_file_init.c), for the tests."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

#: a patch line holds at most this many bytes (the guest reads 64 KiB lines)
PATCH_CHUNK = 4096
#: gaps of equal bytes shorter than this between two differences are patched over
PATCH_MERGE = 16

SEEK_DATA = getattr(os, "SEEK_DATA", 3)
SEEK_HOLE = getattr(os, "SEEK_HOLE", 4)
BLOCK = 1 << 16


def data_extents(path: Path) -> list[tuple[int, int]]:
    """(offset, length) of the non-hole regions of a file (the whole file where the
    file system cannot say), in order."""
    size = path.stat().st_size
    out = []
    with open(path, "rb") as f:
        fd = f.fileno()
        pos = 0
        try:
            while pos < size:
                try:
                    start = os.lseek(fd, pos, SEEK_DATA)
                except OSError:  # ENXIO: only a hole follows
                    break
                end = os.lseek(fd, start, SEEK_HOLE)
                out.append((start, min(end, size) - start))
                pos = end
        except OSError:
            return [(0, size)] if size else []
    return out


def _nonzero_runs(f, off: int, length: int) -> list[tuple[int, bytes]]:
    """Split a data extent into runs of 64 KiB blocks that are not all zero."""
    runs: list[tuple[int, bytes]] = []
    f.seek(off)
    pos, end = off, off + length
    zero = bytes(BLOCK)
    while pos < end:
        chunk = f.read(min(BLOCK, end - pos))
        if not chunk:
            break
        if chunk != zero[: len(chunk)]:
            if runs and runs[-1][0] + len(runs[-1][1]) == pos:
                runs[-1] = (runs[-1][0], runs[-1][1] + chunk)
            else:
                runs.append((pos, chunk))
        pos += len(chunk)
    return runs


def encode_base(path: Path) -> bytes:
    """The guest's base format: "KBAS", u32 0, u64 size, u64 n, n x (u64 off, u64 len,
    bytes); every byte not in an extent is zero."""
    size = path.stat().st_size
    runs: list[tuple[int, bytes]] = []
    with open(path, "rb") as f:
        for off, length in data_extents(path):
            runs.extend(_nonzero_runs(f, off, length))
    out = io.BytesIO()
    out.write(b"KBAS" + struct.pack("<IQQ", 0, size, len(runs)))
    for off, data in runs:
        out.write(struct.pack("<QQ", off, len(data)))
        out.write(data)
    return out.getvalue()


def decode_base(blob: bytes) -> bytes:
    """The file a base blob stands for (tests; the guest does this in C)."""
    if blob[:4] != b"KBAS":
        raise ValueError("not a KBAS blob")
    _, size, n = struct.unpack_from("<IQQ", blob, 4)
    buf = bytearray(size)
    pos = 24
    for _ in range(n):
        off, length = struct.unpack_from("<QQ", blob, pos)
        pos += 16
        data = blob[pos : pos + length]
        pos += length
        end = min(off + length, size)
        if off < size:
            buf[off:end] = data[: end - off]
    return bytes(buf)


def _diff_bytes(a: bytes, b: bytes, base_off: int) -> list[tuple[int, bytes]]:
    """Ranges where b differs from a (same length), as (offset, b's bytes)."""
    out: list[tuple[int, bytes]] = []
    i, n = 0, len(b)
    while i < n:
        if a[i] == b[i]:
            i += 1
            continue
        j = i + 1
        last = i
        while j < n and j - last <= PATCH_MERGE:
            if a[j] != b[j]:
                last = j
            j += 1
        out.append((base_off + i, b[i : last + 1]))
        i = last + 1
    return out


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def diff_patches(base: Path, image: Path) -> list[tuple[int, bytes]]:
    """Patches that turn ``base`` (cut or zero-extended to the image's size) into
    ``image``. Only the data extents of either file are read: both are zero elsewhere."""
    size = image.stat().st_size
    bsize = base.stat().st_size
    ranges = [(o, min(o + n, size)) for o, n in data_extents(image) + data_extents(base)
              if o < size]
    patches: list[tuple[int, bytes]] = []
    with open(base, "rb") as fb, open(image, "rb") as fi:
        for start, end in _merge(ranges):
            pos = start
            while pos < end:
                n = min(BLOCK, end - pos)
                fi.seek(pos)
                b = fi.read(n)
                fb.seek(pos)
                a = fb.read(n) if pos < bsize else b""
                a = a + bytes(n - len(a))  # past the base's end: zeros (extension)
                if a != b:
                    patches.extend(_diff_bytes(a, b, pos))
                pos += n
    # split long patches into lines the guest reads comfortably
    out = []
    for off, data in patches:
        for k in range(0, len(data), PATCH_CHUNK):
            out.append((off + k, data[k : k + PATCH_CHUNK]))
    return out


def apply_patches(base_bytes: bytes, size: int, patches: list[tuple[int, bytes]]) -> bytes:
    """What the guest builds: base cut/extended to ``size``, then the patches."""
    buf = bytearray(base_bytes[:size]) + bytearray(max(0, size - len(base_bytes)))
    for off, data in patches:
        buf[off : off + len(data)] = data
    return bytes(buf)
