"""Android boot image (``boot.img``): "ANDROID!", a header page, then the kernel.

AOSP system/tools/mkbootimg include/bootimg/bootimg.h: every version has the magic at 0,
kernel_size (u32 LE) at 8 and header_version at 40. v0-v2 (``boot_img_hdr_v0``) have
kernel_addr 12, ramdisk_size 16, ramdisk_addr 20, second_size 24, second_addr 28,
tags_addr 32, page_size 36, os_version 44, name[16] 48, cmdline[512] 64; v3/v4
(``boot_img_hdr_v3``) have ramdisk_size 12, os_version 16, header_size 20 and a fixed
4096-byte page. The kernel starts one page in: an arm64 Image, Image.gz or Image.lz4,
often "Image.gz-dtb" (a gzip stream followed by device trees, d0 0d fe ed).

The header is read by the parser generated from ``specs/android_boot.ksy``, given at most
``HEADER_READ`` bytes: the whole header of its version, as a bootloader reads it; a header
cut short before its end is ``layer/truncated``.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.android import MAGIC
from validator.formats.results import Unwrapped, kaitai_parse
from validator.io.decoded import Context
from validator.model import Layer

#: The largest header read: sizeof(boot_img_hdr_v2), 1660 bytes (v0 1632, v1 1648; v3
#: 1580, v4 1584), AOSP mkbootimg include/bootimg/bootimg.h (android-13.0.0_r1).
HEADER_READ = 1660
#: Where header_version sits in every version: what must be there to know the layout.
VERSION_END = 44

rule("android/bad-header", "error",
     "the Android boot image header has an impossible page size or version",
     "The bootloader (and mkbootimg/unpack_bootimg) place the kernel at one page_size into "
     "the image; a page size that is no power of two between 2 KiB and 64 KiB, or a header "
     "version no AOSP release defines (0-4), leaves the kernel nowhere a loader looks.",
     "AOSP system/tools/mkbootimg include/bootimg/bootimg.h",
     ("u-boot",))


def probe(view) -> bool:
    return view.read(0, 8) == MAGIC


def unwrap(view, ctx: Context) -> Unwrapped:
    head = view.read(0, HEADER_READ)
    layer = Layer("android-boot", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    d = layer.details
    h = kaitai_parse(_parser(), head)[0] if len(head) >= VERSION_END else None
    if h is None:  # the magic is in place (probe), so only a short read is left
        result.findings.append(finding("layer/truncated", f"Android boot header cut short "
                                       f"at {len(head)} bytes", offset=len(head)))
        return result
    version, kernel_size = h.header_version, h.kernel_size
    d.update({"header_version": version, "kernel_size": kernel_size})
    page = h.effective_page_size  # 4096 from v3 on, page_size before
    header = getattr(h, "header", None)  # None: a version no AOSP release defines
    if version >= 3:
        if header is not None:
            d.update({"ramdisk_size": header.ramdisk_size, "os_version": header.os_version,
                      "header_size": header.header_size})
        d["page_size"] = page
    else:
        d.update({"kernel_addr": header.kernel_addr, "ramdisk_size": header.ramdisk_size,
                  "ramdisk_addr": header.ramdisk_addr, "second_size": header.second_size,
                  "tags_addr": header.tags_addr, "page_size": page,
                  "os_version": header.os_version, "name": header.name})
    if version > 4 or page < 2048 or page > 65536 or page & (page - 1):
        result.findings.append(finding(
            "android/bad-header", f"header_version {version}, page_size {page:#x}",
            offset=36 if version < 3 else 40))
        return result
    length = view.known_length
    if length is not None and page + kernel_size > length:
        result.findings.append(finding(
            "layer/lying-size", f"kernel_size {kernel_size:#x} at page {page:#x} but the "
            f"image has {length:#x} bytes", offset=8, field="kernel_size"))
        return result
    d["kernel_offset"] = page
    result.view = view.slice(page, kernel_size)
    return result


def _parser():
    from validator._kaitai.android_boot import AndroidBoot

    return AndroidBoot


#: What the pipeline tries, in order (``validator.formats.FORMATS``).
UNWRAPS = ((probe, unwrap),)
