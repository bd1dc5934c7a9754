"""Android boot image (``boot.img``): "ANDROID!", a header page, then the kernel.

AOSP system/tools/mkbootimg include/bootimg/bootimg.h: every version has the magic at 0,
kernel_size (u32 LE) at 8 and header_version at 40. v0-v2 (``boot_img_hdr_v0``) have
kernel_addr 12, ramdisk_size 16, ramdisk_addr 20, second_size 24, second_addr 28,
tags_addr 32, page_size 36, os_version 44, name[16] 48, cmdline[512] 64; v3/v4
(``boot_img_hdr_v3``) have ramdisk_size 12, os_version 16, header_size 20, reserved[4] 24,
cmdline[1536] 44 and a fixed 4096-byte page; v4 appends signature_size (the GKI boot
signature after the ramdisk). The kernel starts one page in: an arm64 Image, Image.gz or
Image.lz4 (the legacy lz4 frame, ``lz4 -l``), often "Image.gz-dtb" (a gzip stream followed
by device trees, d0 0d fe ed); the compression layer takes it from there.

The sections follow the kernel, each on a page boundary: the ramdisk, then (v0-v2) the
second stage, the recovery DTBO at recovery_dtbo_offset (v1, v2) and the DTB (v2), or
(v4) the boot signature. A section that reaches past the end of the file is
``android/section-past-end``; a kernel that does is ``layer/lying-size`` (the chain stops
there). A vendor_boot image ("VNDRBOOT") is read by ``validator.formats.android.vendor``.

The header is read by the parser generated from ``specs/android_boot.ksy``, given at most
``HEADER_READ`` bytes: the whole header of its version, as a bootloader reads it; a header
cut short before its end is ``layer/truncated``.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.android import os_version, plausible_page
from validator.formats.compression import layer_rules  # noqa: F401 (the layer/* rules)
from validator.formats.results import Unwrapped, kaitai_parse
from validator.io.limits import Context
from validator.model import Layer

#: The largest header read: sizeof(boot_img_hdr_v2), 1660 bytes (v0 1632, v1 1648; v3
#: 1580, v4 1584), AOSP mkbootimg include/bootimg/bootimg.h (android-13.0.0_r1).
HEADER_READ = 1660
#: Where header_version sits in every version: what must be there to know the layout.
VERSION_END = 44
#: Where boot_img_hdr_v3's reserved[4] lies: where v0-v2 keep second_size, second_addr,
#: tags_addr and page_size.
RESERVED_AT = 24

rule("layer/android", "info",
     "an Android boot image (boot.img): a header page before the kernel",
     "A boot image is started by a bootloader that reads its header: U-Boot's bootm and "
     "abootimg where U-Boot is built with CONFIG_ANDROID_BOOT_IMAGE (default only with "
     "FASTBOOT; Debian's u-boot-qemu qemu_arm64 has neither, and its bootm says 'Wrong "
     "Image Type for bootm command'), Android's own bootloaders, fastboot boot. U-Boot's "
     "booti, kexec-tools (no probe in the arm64 file_type[] takes it: 'Cannot determine "
     "the file type'), the kernel's kexec_file_load, GRUB and UEFI firmware read the file's "
     "first bytes as the kernel's own header: \"ANDROID!\" is there, so they find no "
     "ARM\\x64 magic at 0x38 and no \"MZ\" at 0, and refuse it.",
     "U-Boot v2025.01 boot/Kconfig ANDROID_BOOT_IMAGE, boot/bootm.c bootm_find_os, "
     "arch/arm/lib/image.c booti_setup; kexec-tools v2.0.32 kexec/arch/arm64/kexec-arm64.c "
     "file_type[] (loader-truth: Debian 12's kexec on a boot.img); Linux v6.12 "
     "arch/arm64/kernel/kexec_image.c image_probe",
     ("u-boot", "kexec-tools", "kexec-file", "grub", "efi"))
rule("android/bad-header", "error",
     "the Android boot image header has an impossible page size or version",
     "The bootloader (and mkbootimg/unpack_bootimg) place the kernel at one page_size into "
     "the image; a page size that is no power of two between 2 KiB and 64 KiB, or a header "
     "version no AOSP release defines (boot: 0-4; vendor_boot: 3-4), leaves the kernel and "
     "every section nowhere a loader looks.",
     "AOSP system/tools/mkbootimg include/bootimg/bootimg.h (android-13.0.0_r1)",
     ("u-boot",))
rule("android/section-past-end", "error",
     "a boot or vendor_boot section reaches past the end of the image",
     "The bootloader finds each section (ramdisk, second stage, recovery DTBO, DTB, boot "
     "signature; a vendor_boot's vendor ramdisk, DTB, ramdisk table and bootconfig) by "
     "adding the page-aligned sizes before it, and reads as many bytes as the header says "
     "(U-Boot android_image_get_ramdisk, android_image_get_dtb; unpack_bootimg does the "
     "same). A size that points past the file hands it whatever follows on the partition: "
     "a ramdisk or DTB cut short, a GKI signature that does not verify.",
     "AOSP system/tools/mkbootimg include/bootimg/bootimg.h (android-13.0.0_r1) layout "
     "comments; U-Boot v2025.01 boot/image-android.c",
     ("u-boot",))
rule("android/reserved-nonzero", "warning",
     "the reserved words of a v3/v4 boot image header are not zero",
     "boot_img_hdr_v3 reserves the four words at 24-39 (mkbootimg writes zeros); they are "
     "where a v0-v2 header keeps second_size, second_addr, tags_addr and page_size. Values "
     "there mean a v0-v2 header relabelled as v3/v4: a loader takes the kernel from the "
     "fixed 4096-byte page of v3/v4, not from the page_size the header was written for.",
     "AOSP system/tools/mkbootimg include/bootimg/bootimg.h boot_img_hdr_v3 "
     "(android-13.0.0_r1)",
     ("u-boot",))
rule("android/vendor-boot", "info",
     "a vendor_boot image: the vendor ramdisk, DTB and command line, no kernel",
     "From header version 3 the boot image holds the kernel and the generic ramdisk only; "
     "the load addresses, the page size, the vendor command line, the vendor ramdisk(s) and "
     "the DTB are in the vendor_boot partition. There is no kernel to judge here: check the "
     "boot.img that goes with it.",
     "AOSP system/tools/mkbootimg include/bootimg/bootimg.h vendor_boot_img_hdr_v3 "
     "(android-13.0.0_r1); source.android.com 'Vendor boot partitions'",
     ())
rule("android/init-boot", "info",
     "a boot image without a kernel: an init_boot image (the generic ramdisk only)",
     "From Android 13 the generic ramdisk of a GKI device is in the init_boot partition: a "
     "boot image header v4 with kernel_size 0 and the ramdisk after the header page; the "
     "kernel is in boot.img. There is no kernel to judge here.",
     "AOSP system/tools/mkbootimg include/bootimg/bootimg.h boot_img_hdr_v4 "
     "(android-13.0.0_r1); source.android.com 'Generic boot partition' (init_boot)",
     ())
rule("android/vendor-ramdisk-table", "error",
     "a v4 vendor ramdisk table entry is malformed or outside the vendor ramdisk",
     "The bootloader loads each vendor ramdisk fragment by the table entry's ramdisk_offset "
     "and ramdisk_size within the vendor ramdisk section, reading entries "
     "vendor_ramdisk_table_entry_size apart (sizeof vendor_ramdisk_table_entry_v4, 108 "
     "bytes); an entry size other than that, more entries than vendor_ramdisk_table_size "
     "holds, or a fragment outside the vendor_ramdisk_size bytes loads garbage or nothing.",
     "AOSP system/tools/mkbootimg include/bootimg/bootimg.h vendor_ramdisk_table_entry_v4, "
     "vendor_boot_img_hdr_v4 (android-13.0.0_r1)",
     ("u-boot",))


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
    if header is not None:
        _details(d, version, page, header)
    if version > 4 or not plausible_page(page):
        result.findings.append(finding(
            "android/bad-header", f"header_version {version}, page_size {page:#x}",
            offset=36 if version < 3 else 40))
        return result
    if version >= 3:
        result.findings += _reserved(head)
    length = view.known_length
    if length is not None and page + kernel_size > length:
        result.findings.append(finding(
            "layer/lying-size", f"kernel_size {kernel_size:#x} at page {page:#x} but the "
            f"image has {length:#x} bytes", offset=8, field="kernel_size"))
        return result
    if length is not None:
        result.findings += past_end(_sections(version, page, kernel_size, header), length,
                                    "boot image")
    if kernel_size == 0 and version >= 3:  # init_boot.img: the ramdisk alone
        layer.kind = "android-init-boot"
        result.findings.append(finding(
            "android/init-boot", f"boot image v{version} with kernel_size 0 and a "
            f"{d.get('ramdisk_size', 0):#x}-byte ramdisk", offset=8, field="kernel_size"))
        return result
    d["kernel_offset"] = page
    result.findings.append(finding(
        "layer/android", f"boot image v{version}: the kernel ({kernel_size:#x} bytes) at "
        f"page {page:#x}"))
    result.view = view.slice(page, kernel_size)
    return result


def _details(d: dict, version: int, page: int, header) -> None:
    """The header's facts for the layer: sizes, the decoded os_version, the command line."""
    release, patch = os_version(header.os_version)
    if version >= 3:
        d.update({"ramdisk_size": header.ramdisk_size, "page_size": page,
                  "os_version": release, "os_patch_level": patch,
                  "header_size": header.header_size, "cmdline": header.cmdline})
        if version >= 4:
            d["signature_size"] = header.signature_size
        return
    d.update({"kernel_addr": header.kernel_addr, "ramdisk_size": header.ramdisk_size,
              "ramdisk_addr": header.ramdisk_addr, "second_size": header.second_size,
              "tags_addr": header.tags_addr, "page_size": page,
              "os_version": release, "os_patch_level": patch, "name": header.name,
              "cmdline": header.cmdline + header.extra_cmdline})
    if version >= 1:
        d["recovery_dtbo_size"] = header.recovery_dtbo_size
        d["header_size"] = header.header_size
    if version >= 2:
        d["dtb_size"] = header.dtb_size


def pages(size: int, page: int) -> int:
    """``size`` rounded up to whole pages, in bytes."""
    return -(-size // page) * page


def _sections(version: int, page: int, kernel_size: int, header) -> list[tuple]:
    """(name, header field offset, file offset, size) of each section after the kernel,
    as bootimg.h lays them out."""
    at = page + pages(kernel_size, page)
    out = [("ramdisk", 12 if version >= 3 else 16, at, header.ramdisk_size)]
    at += pages(header.ramdisk_size, page)
    if version >= 4:
        out.append(("boot signature", 1580, at, header.signature_size))
    elif version < 3:
        out.append(("second", 24, at, header.second_size))
        at += pages(header.second_size, page)
        if version >= 1 and header.recovery_dtbo_size:
            # the only section placed by an explicit offset (mkbootimg writes it where
            # the second stage ends)
            out.append(("recovery_dtbo", 1632, header.recovery_dtbo_offset,
                        header.recovery_dtbo_size))
            at += pages(header.recovery_dtbo_size, page)
        if version >= 2:
            out.append(("dtb", 1648, at, header.dtb_size))
    return out


def past_end(sections: list[tuple], length: int, what: str) -> list:
    """``android/section-past-end`` for every non-empty section that ends past ``length``."""
    out = []
    for name, field_at, start, size in sections:
        if size and start + size > length:
            out.append(finding(
                "android/section-past-end", f"{what} {name}: {size:#x} bytes at {start:#x} "
                f"end at {start + size:#x}, the image has {length:#x} bytes",
                offset=field_at, field=name.replace(" ", "_") + "_size"))
    return out


def _reserved(head: bytes) -> list:
    words = [int.from_bytes(head[at:at + 4], "little")
             for at in range(RESERVED_AT, RESERVED_AT + 16, 4)]
    if not any(words):
        return []
    page = words[3]
    hint = (f"; {page:#x} at 36 is a v0-v2 page_size: the kernel a loader takes from "
            f"4096 was placed at {page:#x}" if plausible_page(page) and page != 4096 else "")
    return [finding("android/reserved-nonzero",
                    "reserved words " + " ".join(f"{w:#x}" for w in words) + hint,
                    offset=RESERVED_AT, field="reserved")]


def _parser():
    from validator._kaitai.android_boot import AndroidBoot

    return AndroidBoot


def unwrap_vendor(view, ctx: Context) -> Unwrapped:
    from validator.formats.android import vendor

    return vendor.unwrap(view, ctx)


#: What the pipeline tries, in order (``validator.formats.FORMATS``).
