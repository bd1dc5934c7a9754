"""EFI zboot files for the seed corpus (zboot-header.S's layout, payload at 0x200), their
near-valid variants and mutations of a real zboot image (its header, and the Image inside,
recompressed)."""

from __future__ import annotations

import struct
from collections.abc import Callable

from validator.formats.arm64_image.samples import arm64_bytes, arm64_header, arm64_params
from validator.formats.compression.writer import codec_available, compress, decompress
from validator.formats.pe.writer import pe_header
from validator.formats.sampling import Chooser, Mutator, Sample
from validator.formats.zboot import LINUX_PE_MAGIC

ZBOOT_NAMES = {"gzip": "gzip", "zstd": "zstd22", "lzma": "lzma", "xz": "xzkern",
               "lz4": "lz4"}


ZBOOT_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "payload-outside-file": (("zboot/payload-outside-file",), lambda p: True),
    "unknown-compression": (("zboot/unknown-compression",), lambda p: True),
    "compression-mismatch": (("zboot/compression-mismatch",), lambda p: True),
    "no-arm64-image": (("zboot/no-arm64-image",), lambda p: True),
    "zimg-magic": (("arm64/bad-magic",), lambda p: True),
    "payload-truncated": (("layer/truncated",), lambda p: True),
}


def zboot_bytes(stream: bytes, name: str, *, payload_size: int | None = None,
                trailer: int | None = None, inner_size: int = 0,
                magic: bytes = b"zimg") -> bytes:
    """An EFI zboot file as zboot-header.S lays it out, payload at 0x200."""
    size = len(stream) if payload_size is None else payload_size
    file_size = 0x200 + len(stream) + (4 if trailer is not None else 0)
    header = bytearray(0x40)
    header[0:8] = b"MZ\0\0" + magic
    struct.pack_into("<II", header, 8, 0x200, size)
    raw = name.encode("latin-1")[:31]
    header[0x18:0x18 + len(raw)] = raw
    struct.pack_into("<II", header, 0x38, LINUX_PE_MAGIC, 0x40)
    pe = pe_header(size_of_image=max(inner_size, file_size), entry=0x200,
                   file_size=file_size)
    data = (bytes(header) + pe).ljust(0x200, b"\0") + stream
    if trailer is not None:
        data += struct.pack("<I", trailer)
    return data


def _zboot(c: Chooser, mutation: str | None, codec: str | None = None) -> Sample:
    codec = codec or c.choice([k for k in ZBOOT_NAMES if codec_available(k)])
    p = arm64_params(c, "5.8", efi=True, endian="le")
    p["codec"] = codec
    image = arm64_bytes(arm64_header(p), p)
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in ZBOOT_MUTATIONS.items() if ok(p)])
    name = ZBOOT_NAMES[codec]
    trailer = None if codec == "gzip" else len(image)
    kw: dict = {}
    if mutation == "no-arm64-image":
        image = c.choice((bytes(0x200), image[:0x38] + image[0x40:]))
        trailer = None if codec == "gzip" else len(image)
    stream = compress(codec, image)
    if mutation == "payload-outside-file":
        kw["payload_size"] = len(stream) + 4 + c.integer(1, 0xFFFFFF)
    elif mutation == "unknown-compression":
        name = c.choice(("bzip2", "lzo1x", "zstd19", "gz", "xz", "".join(
            c.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(c.integer(1, 12)))))
        if name in ZBOOT_NAMES.values():
            name += "x"
    elif mutation == "compression-mismatch":
        name = c.choice([n for k, n in ZBOOT_NAMES.items() if k != codec])
    elif mutation == "zimg-magic":
        i = c.integer(0, 3)
        kw["magic"] = bytes(b ^ (1 if j == i else 0) for j, b in enumerate(b"zimg"))
    elif mutation == "payload-truncated":
        stream = stream[:c.integer(max(1, len(stream) // 2), len(stream) - 1)]
    data = zboot_bytes(stream, name, trailer=trailer, inner_size=p["image_size"], **kw)
    if mutation is None:
        return Sample("zboot", f"vmlinuz.efi-{codec}", data, ("layer/zboot",), None, p)
    return Sample("zboot", mutation, data, ZBOOT_MUTATIONS[mutation][0], mutation, p)


def _zboot_targets(data: bytes, out: dict, depth: int, limit: int, recurse) -> None:
    offset, size = struct.unpack_from("<II", data, 8)
    name = data[0x18:0x38].split(b"\0", 1)[0].decode("latin-1")

    def header(**fields) -> Mutator:
        def fn(c: Chooser) -> bytes:
            raw = bytearray(data)
            for at, value in fields.items():
                at = int(at[1:], 16)
                value = value(c) if callable(value) else value
                if isinstance(value, bytes):
                    raw[at:at + len(value)] = value
                else:
                    struct.pack_into("<I", raw, at, value)
            return bytes(raw)
        return fn

    out["zboot:payload-outside-file"] = (("zboot/payload-outside-file",), header(
        x0c=lambda c: min(2**32 - 1, max(0, len(data) - offset) + c.integer(1, 0xFFFFFF))))
    out["zboot:unknown-compression"] = (("zboot/unknown-compression",), header(
        x18=b"lzo1x\0\0\0"))
    codec = {"gzip": "gzip", "lz4": "lz4", "lzma": "lzma", "xzkern": "xz",
             "zstd22": "zstd", "zstd": "zstd"}.get(name)
    if codec is not None:
        other = "zstd22\0" if codec == "gzip" else "gzip\0\0\0"
        out["zboot:compression-mismatch"] = (("zboot/compression-mismatch",), header(
            x18=other.encode()))
    out["zboot:zimg-magic"] = (("arm64/bad-magic",), header(x04=b"zimG"))
    if codec is None or offset + size > len(data):
        return
    inner = decompress(codec, data[offset:offset + size], limit)
    if inner is None:
        return
    tail = data[offset + size:]
    for mname, (expect, fn) in recurse(inner, "zboot", depth + 1, limit=limit).items():
        out[f"zboot>{codec}>{mname}"] = (expect, _rezboot(data[:offset], codec, fn, tail))


def _rezboot(head: bytes, codec: str, fn: Mutator, tail: bytes) -> Mutator:
    def apply(c: Chooser) -> bytes:
        inner = fn(c)
        stream = compress(codec, inner)
        raw = bytearray(head)
        struct.pack_into("<I", raw, 0xC, len(stream))
        trailer = struct.pack("<I", len(inner)) if len(tail) >= 4 and codec != "gzip" else b""
        return bytes(raw) + stream + trailer + tail[len(trailer):]
    return apply


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"zboot": (lambda c, m: _zboot(c, m), ZBOOT_MUTATIONS)}


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """A zboot header's mutations, and the Image inside (recompressed)."""
    if data[:8] != b"MZ\0\0zimg":
        return False
    _zboot_targets(data, out, depth, limit, recurse)
    return True
