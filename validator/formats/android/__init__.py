"""The Android boot image (AOSP system/tools/mkbootimg include/bootimg/bootimg.h): its
constants, declared once.

``decoder`` takes the boot image's layer off on the check path, ``vendor`` reads a
vendor_boot image (no kernel inside: its facts and its sections' bounds), ``samples``
builds boot and vendor_boot images and their mutations for the seed corpus.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

MAGIC = b"ANDROID!"
#: "VNDRBOOT": a vendor_boot image (bootimg.h VENDOR_BOOT_MAGIC), header versions 3 and 4.
VENDOR_MAGIC = b"VNDRBOOT"
#: The fixed page of a v3/v4 boot image (bootimg.h boot_img_hdr_v3: BOOT_IMAGE_HEADER_V3_PAGESIZE).
V3_PAGE = 4096
#: sizeof(vendor_boot_img_hdr_v3) and _v4 (bootimg.h, android-13.0.0_r1).
VENDOR_HEADER_SIZE = {3: 2112, 4: 2128}
#: sizeof(vendor_ramdisk_table_entry_v4): size, offset, type, name[32], board_id[16].
VENDOR_RAMDISK_ENTRY_SIZE = 108
#: VENDOR_RAMDISK_TYPE_* (bootimg.h).
VENDOR_RAMDISK_TYPES = {0: "none", 1: "platform", 2: "recovery", 3: "dlkm"}
#: The most vendor ramdisk table entries read (mkbootimg writes one per fragment; AOSP
#: devices have a handful): the table is bounded before it is read.
MAX_VENDOR_RAMDISKS = 64


def os_version(value: int) -> tuple[str | None, str | None]:
    """os_version as bootimg.h packs it: (A.B.C from bits 31-11, 7 bits each; the patch
    level Y-M from bits 10-0, Y as years after 2000 in 7 bits, M in 4). A part that is
    zero was not set (mkbootimg writes 0 without --os_version / --os_patch_level): None."""
    v, p = value >> 11, value & 0x7FF
    return (f"{v >> 14}.{(v >> 7) & 0x7F}.{v & 0x7F}" if v else None,
            f"{(p >> 4) + 2000:d}-{p & 0xF:02d}" if p else None)


def plausible_page(page: int) -> bool:
    """A page size a loader can place sections by: a power of two from 2 KiB to 64 KiB."""
    return 2048 <= page <= 65536 and not page & (page - 1)


def probe(view) -> bool:
    return view.read(0, 8) == MAGIC


def probe_vendor(view) -> bool:
    return view.read(0, 8) == VENDOR_MAGIC


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((probe, None, "unwrap"), (probe_vendor, None, "unwrap_vendor"))
