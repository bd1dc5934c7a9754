"""Writes RPM packages as rpmbuild lays them out (rpm-4.18.0 docs/manual/format.md): the
lead, a signature header (its own region, SIZE, MD5 and SHA256 of the header) padded to 8
bytes, the main header (an immutable region over entries sorted by tag, each entry's data
aligned for its type, docs/manual/hregions.md) and a compressed newc cpio payload. The
seed corpus builds its packages here; ``rpm -qp`` and ``rpm2cpio | cpio -t`` read them
(tests/test_rpm_samples.py).
"""

from __future__ import annotations

import hashlib
import posixpath
import struct

from validator.formats.rpm import (
    ARCH,
    BASENAMES,
    BIN,
    DIRINDEXES,
    DIRNAMES,
    FILEMODES,
    FILESIZES,
    HEADER_MAGIC,
    HEADERIMMUTABLE,
    HEADERSIGNATURES,
    INT16,
    INT32,
    INT64,
    LEAD_MAGIC,
    LONGFILESIZES,
    NAME,
    PAYLOADCOMPRESSOR,
    PAYLOADFLAGS,
    PAYLOADFORMAT,
    RELEASE,
    SIG_PAYLOADSIZE,
    SIG_SHA256,
    SIG_SIZE,
    SIGTYPE_HEADERSIG,
    STRING,
    STRING_ARRAY,
    VERSION,
)
from validator.formats.rpm.files import FILEFLAGS, GHOST

SIG_MD5 = 1004
OS, SIZE, RPMVERSION, FILEMTIMES, FILEDIGESTS, FILELINKTOS = 1021, 1009, 1064, 1034, 1035, 1036
FILEUSERNAME, FILEGROUPNAME, FILEDIGESTALGO = 1039, 1040, 5011
MTIME = 1_700_000_000
_FMT = {INT16: "H", INT32: "I", INT64: "Q"}
_ALIGN = {INT16: 2, INT32: 4, INT64: 8}
#: The lead's archnum (rpmrc's arch_canon numbers).
ARCHNUM = {"x86_64": 1, "aarch64": 19, "ppc64le": 16}


def _data(kind: int, value) -> bytes:
    if kind == STRING:
        return value.encode() + b"\0"
    if kind == STRING_ARRAY:
        return b"".join(v.encode() + b"\0" for v in value)
    if kind == BIN:
        return bytes(value)
    return struct.pack(f">{len(value)}{_FMT[kind]}", *value)


def _count(kind: int, value) -> int:
    if kind == STRING:
        return 1
    return len(value)


def blob(entries: list[tuple[int, int, object]], region: int, *,
         il_extra: int = 0) -> bytes:
    """il, dl, the index and the store (``headerExport``): ``entries`` (tag, type,
    value) sorted by tag behind a region entry ``region`` whose trailer ends the store."""
    entries = sorted(entries, key=lambda e: e[0])
    il = len(entries) + 1
    index = []
    store = bytearray()
    for tag, kind, value in entries:
        store += b"\0" * (-len(store) % _ALIGN.get(kind, 1))
        index.append(struct.pack(">IIiI", tag, kind, len(store), _count(kind, value)))
        store += _data(kind, value)
    trailer = len(store)
    store += struct.pack(">IIiI", region, BIN, -il * 16, 16)
    head = struct.pack(">IIiI", region, BIN, trailer, 16)
    return struct.pack(">II", il + il_extra, len(store)) + head + b"".join(index) + store


def header(entries, region: int = HEADERIMMUTABLE, **kw) -> bytes:
    return HEADER_MAGIC + b"\0" * 4 + blob(entries, region, **kw)


def lead(name: str, arch: str) -> bytes:
    return (LEAD_MAGIC + bytes([3, 0]) + struct.pack(">HH", 0, ARCHNUM.get(arch, 0))
            + name.encode()[:65].ljust(66, b"\0") + struct.pack(">HH", 1, SIGTYPE_HEADERSIG)
            + b"\0" * 16)


def cpio(members: list[tuple[str, int, bytes]]) -> bytes:
    """A newc archive of (path, mode, data), rpm's "./" names, then its trailer."""
    out = bytearray()
    for ino, (path, mode, data) in enumerate([*members, ("TRAILER!!!", 0, b"")], 1):
        name = (path if path == "TRAILER!!!" else "./" + path.lstrip("/")).encode() + b"\0"
        fields = (ino if data or mode else 0, mode, 0, 0, 1, MTIME if mode else 0, len(data),
                  0, 0, 0, 0, len(name), 0)
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + name
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def stripped_cpio(members: list[tuple[int, bytes]]) -> bytes:
    """rpm's stripped archive of (file index in the header, data): "07070X", the index
    in 8 hex digits, padding to 4, the data, padding to 4; a newc trailer ends it."""
    out = bytearray()
    for index, data in members:
        out += b"07070X" + b"%08x" % index
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
    return bytes(out) + cpio([])


def package(name: str, version: str, release: str, arch: str,
            files: list[tuple[str, bytes, int]], compressor: str, *,
            stripped: bool = False,
            payload_files: list[tuple[str, bytes]] | None = None,
            stream: bytes | None = None, size_extra: int = 0,
            header_il_extra: int = 0, header_magic: bytes | None = None) -> bytes:
    """An RPM of ``files`` (path, data, flags: GHOST for a %ghost, not in the payload)
    whose payload is compressed with ``compressor`` (rpm's PAYLOADCOMPRESSOR name). The
    mutations: ``stripped`` (rpm's stripped archive, the header's LONGFILESIZES: what
    rpm writes for a package with a file of 4 GiB or more), ``payload_files`` (what the
    payload holds instead of the header's files),
    ``stream`` (the compressed payload as given), ``size_extra`` (the signature's SIZE
    lies by that much), ``header_il_extra`` (the header's index count lies),
    ``header_magic`` (its first four bytes)."""
    from validator.formats.compression.writer import compress

    files = sorted(files)
    dirs: list[str] = []
    for path, _, _ in files:
        d = posixpath.dirname("/" + path.lstrip("/")) + "/"
        if d not in dirs:
            dirs.append(d)
    mode = 0o100644
    entries = [
        (NAME, STRING, name), (VERSION, STRING, version), (RELEASE, STRING, release),
        (SIZE, INT32, [sum(len(d) for _, d, _ in files)]), (OS, STRING, "linux"),
        (ARCH, STRING, arch), (RPMVERSION, STRING, "4.18.0"),
        (LONGFILESIZES, INT64, [len(d) for _, d, _ in files]) if stripped else
        (FILESIZES, INT32, [len(d) for _, d, _ in files]),
        (FILEMODES, INT16, [mode] * len(files)),
        (FILEMTIMES, INT32, [MTIME] * len(files)),
        (FILEDIGESTS, STRING_ARRAY, [hashlib.sha256(d).hexdigest() for _, d, _ in files]),
        (FILELINKTOS, STRING_ARRAY, [""] * len(files)),
        (FILEFLAGS, INT32, [f for _, _, f in files]),
        (FILEUSERNAME, STRING_ARRAY, ["root"] * len(files)),
        (FILEGROUPNAME, STRING_ARRAY, ["root"] * len(files)),
        (DIRINDEXES, INT32, [dirs.index(posixpath.dirname("/" + p.lstrip("/")) + "/")
                             for p, _, _ in files]),
        (BASENAMES, STRING_ARRAY, [posixpath.basename(p) for p, _, _ in files]),
        (DIRNAMES, STRING_ARRAY, dirs),
        (PAYLOADFORMAT, STRING, "cpio"), (PAYLOADCOMPRESSOR, STRING, compressor),
        (PAYLOADFLAGS, STRING, "6" if compressor != "zstd" else "3"),
        (FILEDIGESTALGO, INT32, [8]),
    ]
    main = header(entries, il_extra=header_il_extra)
    if header_magic is not None:
        main = header_magic + main[4:]
    inside = payload_files if payload_files is not None else [
        (p, d) for p, d, f in files if not f & GHOST]
    if stripped:
        archive = stripped_cpio([(i, d) for i, (_, d, f) in enumerate(files)
                                 if not f & GHOST])
    else:
        archive = cpio([(p, mode, d) for p, d in sorted(inside)])
    if stream is None:
        stream = compress(compressor, archive)
    signed = main + stream
    sig = header([(SIG_SIZE, INT32, [len(signed) + size_extra]),
                  (SIG_MD5, BIN, hashlib.md5(signed).digest()),
                  (SIG_SHA256, STRING, hashlib.sha256(main).hexdigest()),
                  (SIG_PAYLOADSIZE, INT32, [len(archive)])], HEADERSIGNATURES)
    sig += b"\0" * (-(96 + len(sig)) % 8)
    return lead(f"{name}-{version}-{release}", arch) + sig + signed
