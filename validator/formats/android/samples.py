"""Android boot images for the seed corpus (AOSP bootimg.h: header page, then the kernel),
their near-valid variants and mutations of a real boot image."""

from __future__ import annotations

import struct
from collections.abc import Callable

from validator.formats.arm64_image.samples import arm64_bytes, arm64_header, arm64_params
from validator.formats.compression.writer import compress, decompress, stream_codec
from validator.formats.sampling import Chooser, Mutator, Sample

ANDROID_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "bad-page-size": (("android/bad-header",), lambda p: p["version"] < 3),
    "bad-version": (("android/bad-header",), lambda p: True),
    "kernel-size-lying": (("layer/lying-size",), lambda p: True),
}


def android_bytes(kernel: bytes, *, version: int, page: int = 2048,
                  kernel_size: int | None = None) -> bytes:
    """An Android boot image (AOSP bootimg.h): header page, then the kernel."""
    size = len(kernel) if kernel_size is None else kernel_size
    if version >= 3:
        head = b"ANDROID!" + struct.pack("<IIII4II", size, 0, 0, 1580, 0, 0, 0, 0, version)
        page = 4096
    else:
        head = b"ANDROID!" + struct.pack("<10I16s", size, 0x10008000, 0, 0x11000000, 0,
                                         0x10F00000, 0x10000100, page, version, 0,
                                         b"kimage")
    head = head.ljust(page if page <= 0x10000 and page >= len(head) else 4096, b"\0")
    data = head + kernel
    pad = (-len(data)) % 2048
    return data + bytes(pad)


def _android(c: Chooser, mutation: str | None) -> Sample:
    p = arm64_params(c, c.choice(("4.6", "5.8")))
    versions = (0, 1, 2, 3, 4)
    if mutation not in (None, "any"):
        versions = tuple(v for v in versions if ANDROID_MUTATIONS[mutation][1]({"version": v}))
    p["version"] = c.choice(versions)
    p["boot_page"] = 4096 if p["version"] >= 3 else c.choice((2048, 4096))
    p["gzip"] = c.boolean()
    image = arm64_bytes(arm64_header(p), p)
    kernel = compress("gzip", image) if p["gzip"] else image
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in ANDROID_MUTATIONS.items() if ok(p)])
    if mutation is not None and not ANDROID_MUTATIONS[mutation][1](p):
        raise ValueError(f"mutation {mutation} does not apply to boot image v{p['version']}")
    kw: dict = {"version": p["version"], "page": p["boot_page"]}
    if mutation == "bad-page-size":
        kw["page"] = c.choice((0, 1000, 3000, 0x20000, 1 << 31))
    elif mutation == "bad-version":
        kw["version"] = c.integer(5, 2**32 - 1)
    elif mutation == "kernel-size-lying":
        kw["kernel_size"] = len(kernel) + 0x800 + c.integer(1, 0xFFFFFF)
    data = android_bytes(kernel, **kw)
    if mutation is None:
        expect = ("layer/compressed",) if p["gzip"] else ()
        return Sample("android-boot", f"boot-v{p['version']}", data, expect, None, p)
    return Sample("android-boot", mutation, data, ANDROID_MUTATIONS[mutation][0], mutation, p)


def _android_targets(data: bytes, out: dict, depth: int, limit: int, recurse) -> None:
    kernel_size, = struct.unpack_from("<I", data, 8)
    version, = struct.unpack_from("<I", data, 40)
    page = 4096 if version >= 3 else struct.unpack_from("<I", data, 36)[0]

    def patch(at: int, value) -> Mutator:
        def fn(c: Chooser) -> bytes:
            raw = bytearray(data)
            struct.pack_into("<I", raw, at, value(c) if callable(value) else value)
            return bytes(raw)
        return fn

    out["android:kernel-size-lying"] = (("layer/lying-size",), patch(
        8, lambda c: min(2**32 - 1, len(data) + c.integer(1, 0xFFFFFF))))
    out["android:bad-version"] = (("android/bad-header",), patch(
        40, lambda c: c.integer(5, 2**32 - 1)))
    if version < 3:
        out["android:bad-page-size"] = (("android/bad-header",), patch(
            36, lambda c: c.choice((0, 1000, 3000, 0x20000))))
    if not 2048 <= page <= 65536 or page + kernel_size > len(data):
        return
    kernel = data[page:page + kernel_size]
    codec = stream_codec(kernel)
    inner = decompress(codec, kernel, limit) if codec else kernel
    if inner is None:
        return
    for mname, (expect, fn) in recurse(inner, "compressed" if codec else "raw", depth + 1,
                                       limit=limit).items():
        if ":stream-" in mname or mname.endswith("checksum-wrong"):
            continue
        out[f"android>{mname}"] = (expect, _reandroid(data, page, codec, fn))


def _reandroid(data: bytes, page: int, codec: str | None, fn: Mutator) -> Mutator:
    def apply(c: Chooser) -> bytes:
        inner = fn(c)
        kernel = compress(codec, inner) if codec else inner
        head = bytearray(data[:page])
        struct.pack_into("<I", head, 8, len(kernel))
        return bytes(head) + kernel + bytes((-len(kernel)) % 2048)
    return apply


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"android-boot": (lambda c, m: _android(c, m), ANDROID_MUTATIONS)}


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """A boot image header's mutations, and the kernel inside (re-wrapped)."""
    if data[:8] != b"ANDROID!":
        return False
    _android_targets(data, out, depth, limit, recurse)
    return True
