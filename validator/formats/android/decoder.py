"""Android boot image (``boot.img``): "ANDROID!", a header page, then the kernel.

AOSP system/tools/mkbootimg include/bootimg/bootimg.h: every version has the magic at 0,
kernel_size (u32 LE) at 8 and header_version at 40. v0-v2 (``boot_img_hdr_v0``) have
kernel_addr 12, ramdisk_size 16, ramdisk_addr 20, second_size 24, second_addr 28,
tags_addr 32, page_size 36, os_version 44, name[16] 48, cmdline[512] 64; v3/v4
(``boot_img_hdr_v3``) have ramdisk_size 12, os_version 16, header_size 20 and a fixed
4096-byte page. The kernel starts one page in: an arm64 Image, Image.gz or Image.lz4,
often "Image.gz-dtb" (a gzip stream followed by device trees, d0 0d fe ed).
"""

from __future__ import annotations

import struct

from validator.catalogue import finding, rule
from validator.formats.android import MAGIC
from validator.formats.results import Unwrapped
from validator.io.decoded import Context
from validator.model import Layer

V3_PAGE = 4096

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
    head = view.read(0, 48 + 16)
    layer = Layer("android-boot", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    d = layer.details
    if len(head) < 48:
        result.findings.append(finding("layer/truncated", f"Android boot header cut short "
                                       f"at {len(head)} bytes", offset=len(head)))
        return result
    kernel_size = struct.unpack_from("<I", head, 8)[0]
    version = struct.unpack_from("<I", head, 40)[0]
    d.update({"header_version": version, "kernel_size": kernel_size})
    if version >= 3:
        ramdisk_size, os_version, header_size = struct.unpack_from("<III", head, 12)
        page = V3_PAGE
        d.update({"ramdisk_size": ramdisk_size, "os_version": os_version,
                  "header_size": header_size, "page_size": page})
    else:
        (kernel_addr, ramdisk_size, ramdisk_addr, second_size, second_addr, tags_addr,
         page) = struct.unpack_from("<7I", head, 12)
        d.update({"kernel_addr": kernel_addr, "ramdisk_size": ramdisk_size,
                  "ramdisk_addr": ramdisk_addr, "second_size": second_size,
                  "tags_addr": tags_addr, "page_size": page,
                  "os_version": struct.unpack_from("<I", head, 44)[0],
                  "name": head[48:64].split(b"\0", 1)[0].decode("latin-1")})
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


#: What the pipeline tries, in order (``validator.formats.FORMATS``).
UNWRAPS = ((probe, unwrap),)
