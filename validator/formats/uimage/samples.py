"""Legacy U-Boot images for the seed corpus (include/image.h ``legacy_img_hdr``), their
near-valid variants and mutations of a real uImage (its header, and the kernel inside)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from validator.formats.arm64_image.samples import arm64_bytes, arm64_header, arm64_params
from validator.formats.compression.writer import codec_available, compress, decompress
from validator.formats.sampling import Chooser, Mutator, Sample

UIMAGE_COMP = {None: 0, "gzip": 1, "bzip2": 2, "lzma": 3, "lz4-frame": 5, "zstd": 6}


UIMAGE_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "bad-header-crc": (("uimage/bad-header-crc",), lambda p: True),
    "size-lying": (("layer/lying-size",), lambda p: True),
    "compression-mismatch": (("uimage/compression-mismatch",), lambda p: True),
    "bad-magic": (("layer/unknown-format",), lambda p: True),
    "placement": (("arm64/uimage-placement",), lambda p: True),
}


def uimage_bytes(payload: bytes, *, comp: int, arch: int = 22, size: int | None = None,
                 name: bytes = b"Linux-6.1.0", load: int = 0x40080000,
                 bad_crc: bool = False, magic: bytes = b"\x27\x05\x19\x56") -> bytes:
    """A legacy U-Boot image (include/image.h ``legacy_img_hdr``), big-endian."""
    size = len(payload) if size is None else size
    head = bytearray(magic + struct.pack(">IIIIIIBBBB32s", 0, 0, size, load, load,
                                         zlib.crc32(payload) & 0xFFFFFFFF, 5, arch, 2, comp,
                                         name[:32]))
    crc = zlib.crc32(bytes(head)) & 0xFFFFFFFF
    struct.pack_into(">I", head, 4, crc ^ (1 if bad_crc else 0))
    return bytes(head) + payload


def _uimage(c: Chooser, mutation: str | None) -> Sample:
    codec = c.choice([k for k in UIMAGE_COMP if k is None or codec_available(k)])
    p = arm64_params(c, c.choice(("4.6", "5.8")))
    p["codec"] = codec
    header = arm64_header(p)
    image = arm64_bytes(header, p)
    payload = compress(codec, image) if codec else image
    if mutation == "any":
        mutation = c.choice(tuple(UIMAGE_MUTATIONS))
    # ih_load as booting.rst places the Image: text_offset above a 2 MiB-aligned base
    text_offset = header["text_offset"] if header["image_size"] else 0x80000
    kw: dict = {"comp": UIMAGE_COMP[codec], "load": 0x40000000 + text_offset}
    if mutation == "placement":
        kw["load"] += 0x1000 * c.integer(1, 0x1FF)
    elif mutation == "bad-header-crc":
        kw["bad_crc"] = True
    elif mutation == "size-lying":
        kw["size"] = len(payload) + c.integer(1, 0xFFFFFF)
    elif mutation == "compression-mismatch":
        kw["comp"] = c.choice([v for k, v in UIMAGE_COMP.items() if k != codec])
    elif mutation == "bad-magic":
        i = c.integer(0, 3)
        kw["magic"] = bytes(b ^ (0x40 if j == i else 0)
                            for j, b in enumerate(b"\x27\x05\x19\x56"))
    data = uimage_bytes(payload, **kw)
    if mutation is None:
        # every uImage is named (info): booti, kexec_file_load, GRUB and UEFI refuse one
        expect = ("layer/uimage",) + (("layer/compressed",) if codec else ())
        return Sample("uimage", f"uImage-{codec or 'none'}", data, expect, None, p)
    return Sample("uimage", mutation, data, UIMAGE_MUTATIONS[mutation][0], mutation, p)


def _uimage_targets(data: bytes, out: dict, depth: int, limit: int, recurse) -> None:
    size, = struct.unpack_from(">I", data, 12)
    comp = data[31]

    def header(at: int, fmt: str, value, crc: bool = True) -> Mutator:
        def fn(c: Chooser) -> bytes:
            raw = bytearray(data)
            struct.pack_into(">" + fmt, raw, at, value(c) if callable(value) else value)
            if crc:
                struct.pack_into(">I", raw, 4, 0)
                struct.pack_into(">I", raw, 4, zlib.crc32(bytes(raw[:64])) & 0xFFFFFFFF)
            return bytes(raw)
        return fn

    hcrc, = struct.unpack_from(">I", data, 4)
    out["uimage:bad-header-crc"] = (("uimage/bad-header-crc",), header(
        4, "I", lambda c: hcrc ^ (1 << c.integer(0, 31)), crc=False))
    out["uimage:size-lying"] = (("layer/lying-size",), header(
        12, "I", lambda c: min(2**32 - 1, len(data) - 64 + c.integer(1, 0xFFFFFF))))
    out["uimage:compression-mismatch"] = (("uimage/compression-mismatch",), header(
        31, "B", 0 if comp else 1))
    codecs = {0: None, 1: "gzip", 2: "bzip2", 3: "lzma", 5: "lz4-frame", 6: "zstd"}
    if comp not in codecs or 64 + size > len(data):
        return
    codec = codecs[comp]
    payload = data[64:64 + size]
    inner = decompress(codec, payload, limit) if codec else payload
    if inner is None:
        return
    for mname, (expect, fn) in recurse(inner, "compressed" if codec else "raw", depth + 1,
                                       limit=limit).items():
        if codec is None and mname.startswith(("arm64:image-size-lying", "arm64:entry-past")):
            continue  # a raw uImage payload: fine, but keep the paths simple
        out[f"uimage>{mname}"] = (expect, _reuimage(data, codec, fn))


def _reuimage(data: bytes, codec: str | None, fn: Mutator) -> Mutator:
    def apply(c: Chooser) -> bytes:
        inner = fn(c)
        payload = compress(codec, inner) if codec else inner
        head = bytearray(data[:64])
        struct.pack_into(">I", head, 12, len(payload))
        struct.pack_into(">I", head, 24, zlib.crc32(payload) & 0xFFFFFFFF)
        struct.pack_into(">I", head, 4, 0)
        struct.pack_into(">I", head, 4, zlib.crc32(bytes(head)) & 0xFFFFFFFF)
        return bytes(head) + payload
    return apply


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"uimage": (lambda c, m: _uimage(c, m), UIMAGE_MUTATIONS)}


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """A uImage header's mutations, and the kernel inside (re-wrapped, CRCs updated)."""
    if data[:4] != b"\x27\x05\x19\x56":
        return False
    _uimage_targets(data, out, depth, limit, recurse)
    return True
