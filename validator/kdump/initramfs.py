"""What an initramfs holds once unpacked: its size in tmpfs, and whether it is a dump one.

The capture kernel unpacks the initrd into its rootfs (tmpfs) before running anything
(Linux init/initramfs.c ``unpack_to_rootfs``): the packed file sits in the crash region
as a segment and the unpacked files take pages beside it until the initramfs exits, so
both count towards the reservation. ``contents(path)`` walks the newc cpio archives
of the file (plain, and each compressed stream decoded as it is read: gzip, bzip2,
lzma, xz with the standard library, zstd with zstandard) header by header, summing each
regular file's size rounded up to a 4 KiB page (tmpfs stores whole pages), and notes
whether a ``makedumpfile`` is among the names (a dump initramfs: Debian kdump-tools'
and Fedora mkdumprd's both carry it; a plain boot initramfs does not).

Bounded: at most ``MAX_UNPACKED`` decoded bytes and ``MAX_ENTRIES`` headers; the
decoders' output is asked for in 64 KiB pieces, never kept; lzma and xz under a memory
limit. Names are never returned, only whether one matched; the result is a summary.
"""

from __future__ import annotations

import bz2
import lzma
import os
import zlib

from validator.kdump.initrd import COMPRESSED, NEWC

MAX_UNPACKED = 1 << 30  # decoded bytes read before the rest is reported as "more than"
MAX_ENTRIES = 1 << 18
MAX_NAME = 4096  # PATH_MAX: a longer c_namesize is no archive the kernel writes
CHUNK = 64 << 10
PAGE = 4096
LZMA_MEMLIMIT = 64 << 20
DUMP_TOOLS = (b"makedumpfile",)


class _Cpio:
    """A newc stream fed in pieces: sums file sizes, looks for the dump tool's name."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.skip = 0  # data (and padding) bytes still to pass
        self.pos = 0  # bytes of this stream consumed, for 4-byte alignment
        self.unpacked = 0
        self.entries = 0
        self.dump_tool = False
        self.done = False
        self.problem = ""

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.done:
            if self.skip:
                n = min(self.skip, len(view))
                self.skip -= n
                self.pos += n
                view = view[n:]
                continue
            self.buf += view
            view = view[len(view):]
            self._headers()

    def _headers(self) -> None:
        while not self.done and not self.skip:
            if not self.buf:
                return
            if self.buf[:1] == b"\0":  # padding between archives
                stripped = len(self.buf) - len(self.buf.lstrip(b"\0"))
                del self.buf[:stripped]
                self.pos += stripped
                continue
            if len(self.buf) < 110:
                return
            if bytes(self.buf[:6]) not in NEWC:
                self.problem, self.done = "no cpio header where one was expected", True
                return
            try:
                size = int(self.buf[54:62], 16)
                name_len = int(self.buf[94:102], 16)
                mode = int(self.buf[14:22], 16)
            except ValueError:
                self.problem, self.done = "malformed cpio header", True
                return
            if name_len > MAX_NAME:
                self.problem, self.done = "cpio name longer than PATH_MAX", True
                return
            head = (110 + name_len + 3) & ~3
            if len(self.buf) < head:
                return
            name = bytes(self.buf[110:110 + name_len]).rstrip(b"\0")
            self.entries += 1
            if self.entries > MAX_ENTRIES:
                self.problem, self.done = f"more than {MAX_ENTRIES} entries", True
                return
            if name != b"TRAILER!!!":
                if mode & 0o170000 == 0o100000:
                    self.unpacked += (size + PAGE - 1) // PAGE * PAGE
                if name.rsplit(b"/", 1)[-1] in DUMP_TOOLS:
                    self.dump_tool = True
            del self.buf[:head]
            self.pos += head
            self.skip = (size + 3) & ~3
            taken = min(self.skip, len(self.buf))  # data already buffered
            del self.buf[:taken]
            self.skip -= taken
            self.pos += taken


def _decoder(kind: str):
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    if kind in ("xz", "lzma"):
        return lzma.LZMADecompressor(lzma.FORMAT_AUTO, memlimit=LZMA_MEMLIMIT)
    if kind == "zstd":
        from validator import zstdlib

        return zstdlib.load().ZstdDecompressor(max_window_size=128 << 20).decompressobj()
    return None


def _decode(fd: int, pos: int, size: int, kind: str, cpio: _Cpio) -> tuple[int, str]:
    """Decode the stream at ``pos`` into ``cpio``: (decoded bytes, problem)."""
    try:
        dec = _decoder(kind)
    except ImportError as exc:  # zstandard missing or broken
        return 0, f"{kind}: not decoded (its decoder cannot be imported: {exc.name or exc})"
    if dec is None:
        return 0, f"{kind}: not decoded (no decoder in the standard library)"
    out = 0
    while pos < size and not cpio.done:
        chunk = os.pread(fd, CHUNK, pos)
        if not chunk:
            break
        pos += len(chunk)
        try:
            if kind == "gzip":
                data = dec.decompress(chunk, CHUNK)
                out += len(data)
                cpio.feed(data)
                while dec.unconsumed_tail and not dec.eof and out < MAX_UNPACKED and not cpio.done:
                    data = dec.decompress(dec.unconsumed_tail, CHUNK)
                    out += len(data)
                    cpio.feed(data)
                if dec.eof:
                    break
            elif kind in ("xz", "lzma", "bzip2"):
                data = dec.decompress(chunk, CHUNK)
                out += len(data)
                cpio.feed(data)
                while not dec.eof and not dec.needs_input and out < MAX_UNPACKED:
                    data = dec.decompress(b"", CHUNK)
                    out += len(data)
                    cpio.feed(data)
            else:
                data = dec.decompress(chunk)
                out += len(data)
                cpio.feed(data)
        except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as exc:
            return out, f"{kind} stream does not decode ({type(exc).__name__})"
        except Exception as exc:  # zstandard.ZstdError
            return out, f"{kind} stream does not decode ({type(exc).__name__})"
        if out >= MAX_UNPACKED:
            return out, f"more than {MAX_UNPACKED >> 20} MiB unpacked: not read further"
        if getattr(dec, "eof", False):
            break
    return out, ""


def contents(path: str | int) -> dict:
    """{"unpacked": bytes in tmpfs, "dump_tool": bool, "entries", "problem"}: the whole
    initrd (every archive, plain or compressed). ``path``: a name or an open descriptor
    of a regular file."""
    from validator.source import open_regular

    own = not isinstance(path, int)
    fd = open_regular(path, what="initrd")[0] if own else path
    try:
        size = os.fstat(fd).st_size
        cpio = _Cpio()
        pos, problem = 0, ""
        head = os.pread(fd, 6, 0)
        if head[:6] in NEWC or head[:1] == b"\0":
            # plain archives first (early microcode), fed as they are until the first
            # compressed stream
            plain_end = _plain_end(fd, size)
            while pos < plain_end and not cpio.done:
                step = _unread(fd, pos, plain_end, cpio)
                if step:  # a file's data, or zeros between archives: passed, not read
                    cpio.skip -= min(cpio.skip, step)
                    cpio.pos += step
                    pos += step
                    continue
                chunk = os.pread(fd, min(CHUNK, plain_end - pos), pos)
                if not chunk:
                    break
                cpio.feed(chunk)
                pos += len(chunk)
            problem = cpio.problem
            cpio = _restart(cpio)
        if not problem and pos < size:
            kind = COMPRESSED.get(os.pread(fd, 2, pos))
            if kind:
                _, problem = _decode(fd, pos, size, kind, cpio)
        return {"unpacked": cpio.unpacked, "dump_tool": cpio.dump_tool,
                "entries": cpio.entries, "problem": problem or cpio.problem}
    finally:
        if own:
            os.close(fd)


def _unread(fd: int, pos: int, end: int, cpio: _Cpio) -> int:
    """Bytes at ``pos`` the plain walk passes without reading them: the rest of a file's
    data (whole chunks of it), or a run of zeros between archives (holes by SEEK_DATA, as
    initrd._skip_zeros finds them); 0 when the next bytes are to be read."""
    from validator.kdump.initrd import _skip_zeros

    if cpio.skip >= CHUNK:
        return min(cpio.skip - cpio.skip % CHUNK, end - pos)
    if cpio.skip or cpio.buf or os.pread(fd, 1, pos) != b"\0":
        return 0
    return min(_skip_zeros(fd, pos, end, 0)[0], end) - pos


def _restart(old: _Cpio) -> _Cpio:
    new = _Cpio()
    new.unpacked, new.dump_tool, new.entries = old.unpacked, old.dump_tool, old.entries
    return new


def _plain_end(fd: int, size: int) -> int:
    """Offset of the first compressed stream after the plain archives (or ``size``)."""
    from validator.kdump.initrd import _archive, _skip_zeros

    pos, zeros = 0, 0
    while pos < size:
        head = os.pread(fd, 6, pos)
        if head[:1] == b"\0":
            pos, zeros = _skip_zeros(fd, pos, size, zeros)
            continue
        if head in NEWC:
            end, _, problem = _archive(fd, pos, size)
            if end is None or problem:
                return size
            pos = end
            continue
        return pos
    return size
