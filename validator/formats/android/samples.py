"""Android boot and vendor_boot images for the seed corpus (AOSP bootimg.h: a header page,
then each section on a page boundary), their near-valid variants and mutations of a real
boot image."""

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
    "ramdisk-size-lying": (("android/section-past-end",), lambda p: True),
    "signature-size-lying": (("android/section-past-end",), lambda p: p["version"] == 4),
    "reserved-nonzero": (("android/reserved-nonzero",), lambda p: p["version"] >= 3),
    "no-kernel": (("android/init-boot",), lambda p: p["version"] >= 3),  # init_boot.img
}
VENDOR_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "vendor-bad-page-size": (("android/vendor-boot", "android/bad-header"), lambda p: True),
    "vendor-bad-version": (("android/vendor-boot", "android/bad-header"), lambda p: True),
    "vendor-dtb-size-lying": (("android/vendor-boot", "android/section-past-end"),
                              lambda p: True),
    "vendor-ramdisk-outside": (("android/vendor-boot", "android/vendor-ramdisk-table"),
                               lambda p: p["version"] == 4),
    "vendor-table-entry-size": (("android/vendor-boot", "android/vendor-ramdisk-table"),
                                lambda p: p["version"] == 4),
}
#: os_version 13.0.0, patch level 2024-05 (bootimg.h packing).
OS_VERSION = (13 << 25) | (2024 - 2000) << 4 | 5


def _pad(data: bytes, page: int) -> bytes:
    return data + bytes((-len(data)) % page)


def android_bytes(kernel: bytes, *, version: int, page: int = 2048,
                  kernel_size: int | None = None, ramdisk: bytes = b"",
                  ramdisk_size: int | None = None, signature: bytes = b"",
                  signature_size: int | None = None,
                  reserved: tuple[int, int, int, int] = (0, 0, 0, 0)) -> bytes:
    """An Android boot image (AOSP bootimg.h): header page, the kernel, the ramdisk and
    (v4) the boot signature, each padded to the page. The sizes may lie."""
    size = len(kernel) if kernel_size is None else kernel_size
    rsize = len(ramdisk) if ramdisk_size is None else ramdisk_size
    if version >= 3:
        head = b"ANDROID!" + struct.pack("<IIII4II", size, rsize, OS_VERSION,
                                         1584 if version >= 4 else 1580, *reserved, version)
        head += b"console=ttyAMA0".ljust(1536, b"\0")
        if version >= 4:
            head += struct.pack("<I", len(signature) if signature_size is None
                                else signature_size)
        page = 4096
    else:
        head = b"ANDROID!" + struct.pack("<10I16s", size, 0x10008000, rsize, 0x11000000, 0,
                                         0x10F00000, 0x10000100, page, version, OS_VERSION,
                                         b"kimage")
    valid = 2048 <= page <= 0x10000 and not page & (page - 1)
    step = page if valid else 2048
    head = head.ljust(page if valid else 4096, b"\0")
    return head + _pad(kernel, step) + _pad(ramdisk, step) + _pad(signature, step)


def _android(c: Chooser, mutation: str | None) -> Sample:
    p = arm64_params(c, c.choice(("4.6", "5.8")))
    versions = (0, 1, 2, 3, 4)
    if mutation not in (None, "any"):
        versions = tuple(v for v in versions if ANDROID_MUTATIONS[mutation][1]({"version": v}))
    p["version"] = c.choice(versions)
    p["boot_page"] = 4096 if p["version"] >= 3 else c.choice((2048, 4096))
    p["codec"] = c.choice((None, "gzip", "lz4"))  # Image, Image.gz, Image.lz4 (lz4 -l)
    image = arm64_bytes(arm64_header(p), p)
    kernel = compress(p["codec"], image) if p["codec"] else image
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in ANDROID_MUTATIONS.items() if ok(p)])
    if mutation is not None and not ANDROID_MUTATIONS[mutation][1](p):
        raise ValueError(f"mutation {mutation} does not apply to boot image v{p['version']}")
    ramdisk = b"070701" + c.binary(c.integer(0, 300))  # a newc cpio's magic, then anything
    kw: dict = {"version": p["version"], "page": p["boot_page"], "ramdisk": ramdisk}
    if p["version"] == 4 and c.boolean():
        kw["signature"] = c.binary(c.choice((0x1000, 0x4000)))  # the GKI boot signature
    if mutation == "bad-page-size":
        kw["page"] = c.choice((0, 1000, 3000, 0x20000, 1 << 31))
    elif mutation == "bad-version":
        kw["version"] = c.integer(5, 2**32 - 1)
    elif mutation == "kernel-size-lying":
        kw["kernel_size"] = len(kernel) + 0x10000 + c.integer(1, 0xFFFFFF)
    elif mutation == "ramdisk-size-lying":
        kw["ramdisk_size"] = len(ramdisk) + 0x10000 + c.integer(1, 0xFFFFFF)
    elif mutation == "signature-size-lying":
        kw["signature_size"] = len(kw.get("signature", b"")) + 0x10000 + c.integer(1, 0xFFFF)
    elif mutation == "reserved-nonzero":
        kw["reserved"] = (0, 0, 0x10000100, c.choice((2048, 16384, 1)))
    if mutation == "no-kernel":
        kernel = b""
    data = android_bytes(kernel, **kw)
    if mutation is None:
        expect = ("layer/android", "layer/compressed") if p["codec"] else ("layer/android",)
        return Sample("android-boot", f"boot-v{p['version']}", data, expect, None, p)
    return Sample("android-boot", mutation, data, ANDROID_MUTATIONS[mutation][0], mutation, p)


def vendor_boot_bytes(*, version: int, page: int = 4096, ramdisks: tuple[bytes, ...] = (b"",),
                      dtb: bytes = b"", bootconfig: bytes = b"",
                      dtb_size: int | None = None, entry_size: int = 108,
                      entry_sizes: tuple[int, ...] | None = None) -> bytes:
    """A vendor_boot image (AOSP bootimg.h vendor_boot_img_hdr_v3/_v4): header, vendor
    ramdisk, DTB, (v4) the vendor ramdisk table and bootconfig, each padded to the page."""
    vendor = b"".join(ramdisks)
    head = b"VNDRBOOT" + struct.pack("<5I", version, page, 0x10008000, 0x11000000, len(vendor))
    head += b"androidboot.hardware=kimage".ljust(2048, b"\0")
    head += struct.pack("<I16sIIQ", 0x10000100, b"kimage", 2128 if version >= 4 else 2112,
                        len(dtb) if dtb_size is None else dtb_size, 0x11F00000)
    table = b""
    if version >= 4:
        offset = 0
        for i, r in enumerate(ramdisks):
            size = len(r) if entry_sizes is None else entry_sizes[i]
            table += struct.pack("<III32s16I", size, offset, 1 if i == 0 else 3,
                                 f"rd{i}".encode(), *([0] * 16))
            offset += len(r)
        head += struct.pack("<4I", len(table), len(ramdisks), entry_size, len(bootconfig))
    valid = 2048 <= page <= 0x10000 and not page & (page - 1)
    step = page if valid else 4096
    data = _pad(head, step) + _pad(vendor, step) + _pad(dtb, step)
    if version >= 4:
        data += _pad(table, step) + _pad(bootconfig, step)
    return data


def _vendor(c: Chooser, mutation: str | None) -> Sample:
    p = {"version": 4 if mutation in ("vendor-ramdisk-outside", "vendor-table-entry-size")
         else c.choice((3, 4)), "page": c.choice((2048, 4096))}
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in VENDOR_MUTATIONS.items() if ok(p)])
        if not VENDOR_MUTATIONS[mutation][1](p):
            p["version"] = 4
    count = c.integer(1, 3) if p["version"] >= 4 else 1
    ramdisks = tuple(b"070701" + c.binary(c.integer(0, 200)) for _ in range(count))
    dtb = b"\xd0\x0d\xfe\xed" + c.binary(c.integer(0, 200))
    kw: dict = {"version": p["version"], "page": p["page"], "ramdisks": ramdisks, "dtb": dtb,
                "bootconfig": b"androidboot.kimage=1\n" if p["version"] >= 4 else b""}
    if mutation == "vendor-bad-page-size":
        kw["page"] = c.choice((0, 1000, 3000, 0x20000))
    elif mutation == "vendor-bad-version":
        kw["version"] = c.choice((0, 1, 2, c.integer(5, 2**32 - 1)))
        kw["bootconfig"] = b""
    elif mutation == "vendor-dtb-size-lying":
        kw["dtb_size"] = len(dtb) + 0x20000 + c.integer(1, 0xFFFFFF)
    elif mutation == "vendor-ramdisk-outside":
        kw["entry_sizes"] = tuple(len(r) for r in ramdisks[:-1]) + (
            len(ramdisks[-1]) + c.integer(1, 0xFFFF),)
    elif mutation == "vendor-table-entry-size":
        kw["entry_size"] = c.choice((0, 100, 112, 2**32 - 1))
    data = vendor_boot_bytes(**kw)
    if mutation is None:
        return Sample("android-vendor-boot", f"vendor-boot-v{p['version']}", data,
                      ("android/vendor-boot",), None, p)
    return Sample("android-vendor-boot", mutation, data, VENDOR_MUTATIONS[mutation][0],
                  mutation, p)


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
    out["android:ramdisk-size-lying"] = (("android/section-past-end",), patch(
        12 if version >= 3 else 16, lambda c: min(2**32 - 1, len(data) + c.integer(1, 0xFFFF))))
    if version in (3, 4):
        out["android:reserved-nonzero"] = (("android/reserved-nonzero",), patch(
            36, lambda c: c.choice((2048, 16384, 1))))
    kernel = data[page:page + kernel_size]
    codec = stream_codec(kernel)
    inner = decompress(codec, kernel, limit) if codec else kernel
    if inner is None:
        return
    for mname, (expect, fn) in recurse(inner, "compressed" if codec else "raw", depth + 1,
                                       limit=limit).items():
        if ":stream-" in mname or mname.endswith("checksum-wrong"):
            continue
        out[f"android>{mname}"] = (expect, _reandroid(data, page, kernel_size, codec, fn))


def _reandroid(data: bytes, page: int, kernel_size: int, codec: str | None,
               fn: Mutator) -> Mutator:
    """The boot image with its kernel replaced by ``fn``'s; the sections after the kernel
    are kept, moved to the page after the new kernel."""
    rest = data[page + -(-kernel_size // page) * page:]

    def apply(c: Chooser) -> bytes:
        inner = fn(c)
        kernel = compress(codec, inner) if codec else inner
        head = bytearray(data[:page])
        struct.pack_into("<I", head, 8, len(kernel))
        return bytes(head) + _pad(kernel, page) + rest
    return apply


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"android-boot": (lambda c, m: _android(c, m), ANDROID_MUTATIONS),
         "android-vendor-boot": (lambda c, m: _vendor(c, m), VENDOR_MUTATIONS)}


def _vendor_targets(data: bytes, out: dict) -> None:
    """A real vendor_boot header's mutations (bootimg.h vendor_boot_img_hdr_v3/_v4)."""
    version, = struct.unpack_from("<I", data, 8)

    def patch(at: int, value) -> Mutator:
        def fn(c: Chooser) -> bytes:
            raw = bytearray(data)
            struct.pack_into("<I", raw, at, value(c))
            return bytes(raw)
        return fn

    vendor = "android/vendor-boot"
    out["vendor:bad-page-size"] = ((vendor, "android/bad-header"), patch(
        12, lambda c: c.choice((0, 1000, 3000, 0x20000))))
    out["vendor:dtb-size-lying"] = ((vendor, "android/section-past-end"), patch(
        2100, lambda c: min(2**32 - 1, len(data) + c.integer(1, 0xFFFFFF))))
    if version == 4 and len(data) >= 2128:
        out["vendor:table-entry-size"] = ((vendor, "android/vendor-ramdisk-table"), patch(
            2120, lambda c: c.choice((0, 100, 112, 2**32 - 1))))


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """A boot image header's mutations and the kernel inside (re-wrapped); a vendor_boot
    header's mutations."""
    if data[:8] == b"VNDRBOOT" and len(data) >= 2112:
        _vendor_targets(data, out)
        return True
    if data[:8] != b"ANDROID!":
        return False
    _android_targets(data, out, depth, limit, recurse)
    return True
