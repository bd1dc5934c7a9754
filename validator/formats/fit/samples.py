"""FIT images for the seed corpus, in the shape ``mkimage -f auto`` gives them (one kernel
image with its hash nodes, a configuration named by ``default``), around a drawn arm64
Image, plain or compressed, embedded or external; their near-valid variants; and
mutations of a real FIT (its kernel node's properties and hash values, and the Image
inside when it is embedded uncompressed)."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable

from validator.formats.arm64_image.samples import arm64_bytes, arm64_header, arm64_params
from validator.formats.compression.writer import codec_available, compress
from validator.formats.fit import MAGIC
from validator.formats.fit.writer import fdt_bytes, string, u32
from validator.formats.sampling import Chooser, Mutator, Sample

FIT_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "bad-hash": (("fit/bad-hash",), lambda p: True),
    "no-kernel": (("fit/no-kernel",), lambda p: True),
    "not-a-kernel": (("fit/not-a-kernel",), lambda p: True),
    "data-outside-file": (("fit/data-outside-file",), lambda p: True),
    "compression-mismatch": (("fit/compression-mismatch",), lambda p: True),
    "malformed": (("fit/malformed",), lambda p: True),
    "kernel-placement": (("fit/kernel-placement",), lambda p: True),
}
HASHES = ("crc32", "sha1", "sha256")


def digest(algo: str, data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big") if algo == "crc32" else hashlib.new(
        algo, data).digest()


def fit_bytes(data: bytes, *, compression: str = "none", external: bool = False,
              hashes: tuple[str, ...] = ("crc32",), kind: str = "kernel",
              default: str = "conf-1", kernel: str = "kernel-1", lie_size: int = 0,
              bad_hash: bool = False, load: int = 0x41000000) -> bytes:
    """A FIT as mkimage lays it out: /images/kernel-1 (data or data-offset/data-size) with
    hash nodes, /configurations with ``default`` and conf-1 naming ``kernel``."""
    hash_nodes = []
    for i, algo in enumerate(hashes, 1):
        value = digest(algo, data)
        if bad_hash:
            value = bytes([value[0] ^ 0x80]) + value[1:]
        hash_nodes.append((f"hash-{i}", [("value", value), ("algo", string(algo))], []))
    place = ([("data-size", u32(len(data) + lie_size)), ("data-offset", u32(0))] if external
             else [("data", data)])
    image = ("kernel-1", [("description", string("kimage sample")), *place,
                          ("type", string(kind)), ("arch", string("arm64")),
                          ("os", string("linux")), ("compression", string(compression)),
                          ("load", u32(load)), ("entry", u32(load))], hash_nodes)
    root = ("", [("description", string("kimage sample FIT")), ("#address-cells", u32(1))],
            [("images", [], [image]),
             ("configurations", [("default", string(default))],
              [("conf-1", [("kernel", string(kernel))], [])])])
    return fdt_bytes(root, tail=data if external else b"")


def _fit(c: Chooser, mutation: str | None) -> Sample:
    p = arm64_params(c, "5.8", efi=c.boolean(), endian="le")
    image = arm64_bytes(arm64_header(p), p)
    codec = c.choice([k for k in ("none", "gzip", "lzma", "lz4", "zstd")
                      if k == "none" or codec_available(k)])
    p["codec"] = codec
    if mutation == "any":
        mutation = c.choice(tuple(FIT_MUTATIONS))
    data = image if codec == "none" else compress(codec, image)
    kw: dict = {"compression": codec, "external": c.boolean(),
                "hashes": tuple(h for h in HASHES if c.boolean()) or ("crc32",)}
    if mutation == "bad-hash":
        kw["bad_hash"] = True
    elif mutation == "no-kernel":
        kw.update(c.choice(({"default": "conf-2"}, {"kernel": "kernel-2"})))
    elif mutation == "not-a-kernel":
        kw["kind"] = c.choice(("ramdisk", "flat_dt", "script", "firmware"))
    elif mutation == "data-outside-file":
        kw.update(external=True, lie_size=c.integer(1, 0xFFFFFF))
    elif mutation == "kernel-placement":
        kw["load"] = 0x41000000 + c.choice((0x1000, 0x80000, 0x100000, 0x1FF000))
    elif mutation == "compression-mismatch":
        kw["compression"] = c.choice([k for k in ("none", "gzip", "bzip2", "lzma", "zstd")
                                      if k != codec])
    blob = fit_bytes(data, **kw)
    if mutation == "malformed":
        blob = _malformed(c, blob)
    if mutation is None:
        return Sample("fit", f"fit-{codec}", blob, ("layer/fit",), None, p)
    return Sample("fit", mutation, blob, FIT_MUTATIONS[mutation][0], mutation, p)


def _malformed(c: Chooser, blob: bytes) -> bytes:
    """One structural fault: an unknown token, a structure block longer than the file, or
    a property length that runs past it."""
    raw = bytearray(blob)
    ofs_struct, = struct.unpack_from(">I", raw, 8)
    how = c.choice(("token", "struct-size", "prop-length"))
    if how == "token":
        struct.pack_into(">I", raw, ofs_struct, c.choice((0, 5, 7, 0x10, 0xFFFFFFFF)))
    elif how == "struct-size":
        struct.pack_into(">I", raw, 36, len(raw) + c.integer(1, 0xFFFF))
        struct.pack_into(">I", raw, 4, len(raw) * 2)
        raw = raw[:ofs_struct + 8]
    else:
        # the root's first property: its length runs past the end of the blob
        at = ofs_struct + 8
        struct.pack_into(">I", raw, at + 4, len(raw) + c.integer(1, 0xFFFF))
    return bytes(raw)


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """A real FIT's kernel node (type, compression, a hash value), and the Image inside
    when it is embedded uncompressed (changed in place, its hashes recomputed)."""
    if data[:4] != MAGIC:
        return False
    from validator.formats.fit import tree
    from validator.io.views import BytesView

    view = BytesView(data)
    try:
        t = tree.read(view)
    except tree.Malformed:
        return True
    conf = (t.root.child("configurations") or t.root).child(
        t.text(t.root.child("configurations") or t.root, "default") or "")
    images = t.root.child("images")
    node = images.child(t.text(conf, "kernel") or "") if conf and images else None
    if node is None:
        return True

    def put(name: str, value: bytes) -> Mutator | None:
        where = node.props.get(name)
        if where is None or where[1] != len(value):
            return None
        return lambda c: data[:where[0]] + value + data[where[0] + len(value):]

    kind = t.text(node, "type") or ""
    swap = put("type", b"script\0" if len(kind) == 6 else (kind[:-1] + "x").encode() + b"\0")
    if swap and kind:
        out["fit:not-a-kernel"] = (("fit/not-a-kernel",), swap)
    comp = t.text(node, "compression")
    other = {"none": b"gzip\0", "gzip": b"none\0", "zstd": b"gzip\0", "lzma": b"gzip\0"}
    swap = put("compression", other.get(comp or "", b""))
    if swap:
        out["fit:compression-mismatch"] = (("fit/compression-mismatch",), swap)
    hashes = [(n, c) for n, c in node.children.items() if n.startswith("hash")]
    for _, child in hashes[:1]:
        at, size = child.props.get("value", (0, 0))
        if size:
            out["fit:bad-hash"] = (("fit/bad-hash",), lambda c, at=at: data[:at] + bytes(
                [data[at] ^ 0x80]) + data[at + 1:])
    if comp == "none" and "data" in node.props:
        offset, size = node.props["data"]
        inner = data[offset:offset + size]
        fixes = [(t.text(c, "algo"), c.props["value"]) for _, c in hashes
                 if t.text(c, "algo") in ("crc32", "sha1", "sha256") and "value" in c.props]
        for mname, (expect, fn) in recurse(inner, "fit", depth + 1, limit=limit).items():
            out[f"fit>{mname}"] = (expect, _in_place(data, offset, size, fn, fixes))
    return True


def _in_place(data: bytes, offset: int, size: int, fn: Mutator, fixes: list) -> Mutator:
    def apply(c: Chooser) -> bytes:
        inner = fn(c)[:size].ljust(size, b"\0")
        raw = bytearray(data[:offset] + inner + data[offset + size:])
        for algo, (at, length) in fixes:
            value = digest(algo, inner)
            if len(value) == length:
                raw[at:at + length] = value
        return bytes(raw)
    return apply


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"fit": (lambda c, m: _fit(c, m), FIT_MUTATIONS)}
