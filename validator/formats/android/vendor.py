"""Android vendor_boot image (``vendor_boot.img``, "VNDRBOOT", header versions 3 and 4).

AOSP system/tools/mkbootimg include/bootimg/bootimg.h ``vendor_boot_img_hdr_v3``: magic 0,
header_version 8, page_size 12, kernel_addr 16, ramdisk_addr 20, vendor_ramdisk_size 24,
cmdline[2048] 28, tags_addr 2076, name[16] 2080, header_size 2096, dtb_size 2100, dtb_addr
2104 (2112 bytes); v4 appends vendor_ramdisk_table_size 2112, _entry_num 2116,
_entry_size 2120 and bootconfig_size 2124 (2128 bytes). After the header, each on a
page_size boundary: the vendor ramdisk, the DTB, (v4) the vendor ramdisk table of
``vendor_ramdisk_table_entry_v4`` (108 bytes each) and the bootconfig.

It holds no kernel: the layer reports ``android/vendor-boot`` and its facts and the chain
stops. The header is read by the parser generated from ``specs/android_vendor_boot.ksy``;
the table is read only as far as ``MAX_VENDOR_RAMDISKS`` entries of 108 bytes.
"""

from __future__ import annotations

from validator.catalogue import finding
from validator.formats.android import (
    MAX_VENDOR_RAMDISKS,
    VENDOR_HEADER_SIZE,
    VENDOR_RAMDISK_ENTRY_SIZE,
    VENDOR_RAMDISK_TYPES,
    plausible_page,
)
from validator.formats.android.decoder import pages, past_end
from validator.formats.compression import layer_rules  # noqa: F401 (the layer/* rules)
from validator.formats.results import Unwrapped, kaitai_parse
from validator.io.limits import Context
from validator.model import Layer

#: Where header_version ends: what must be there to know the layout.
VERSION_END = 12


def unwrap(view, ctx: Context) -> Unwrapped:
    from validator._kaitai.android_vendor_boot import AndroidVendorBoot

    layer = Layer("android-vendor-boot", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    version_bytes = view.read(8, 4)
    version = int.from_bytes(version_bytes, "little") if len(version_bytes) == 4 else None
    need = VENDOR_HEADER_SIZE[4 if version is not None and version >= 4 else 3]
    head = view.read(0, need)
    h = kaitai_parse(AndroidVendorBoot, head)[0] if len(head) >= need else None
    if h is None:
        result.findings.append(finding("layer/truncated", f"vendor_boot header needs {need} "
                                       f"bytes, the file has {len(head)}", offset=len(head)))
        return result
    d = layer.details
    page = h.page_size
    d.update({"header_version": version, "page_size": page, "kernel_addr": h.kernel_addr,
              "ramdisk_addr": h.ramdisk_addr, "vendor_ramdisk_size": h.vendor_ramdisk_size,
              "cmdline": h.cmdline, "tags_addr": h.tags_addr, "name": h.name,
              "header_size": h.header_size, "dtb_size": h.dtb_size, "dtb_addr": h.dtb_addr})
    if version >= 4:
        d["bootconfig_size"] = h.bootconfig_size
    result.findings.append(finding(
        "android/vendor-boot", f"vendor_boot v{version}: vendor ramdisk {h.vendor_ramdisk_size:#x}"
        f" bytes, DTB {h.dtb_size:#x} bytes, no kernel", offset=0, field="magic"))
    if version not in VENDOR_HEADER_SIZE or not plausible_page(page):
        result.findings.append(finding(
            "android/bad-header", f"vendor_boot header_version {version}, page_size "
            f"{page:#x}", offset=12 if version in VENDOR_HEADER_SIZE else 8))
        return result
    at = pages(need, page)
    sections = [("vendor ramdisk", 24, at, h.vendor_ramdisk_size)]
    at += pages(h.vendor_ramdisk_size, page)
    sections.append(("dtb", 2100, at, h.dtb_size))
    at += pages(h.dtb_size, page)
    table_at = at
    if version >= 4:
        sections.append(("vendor ramdisk table", 2112, at, h.vendor_ramdisk_table_size))
        at += pages(h.vendor_ramdisk_table_size, page)
        sections.append(("bootconfig", 2124, at, h.bootconfig_size))
    length = view.known_length
    if length is not None:
        result.findings += past_end(sections, length, "vendor_boot")
    if version >= 4:
        d["vendor_ramdisks"], problems = _table(view, h, table_at, length)
        result.findings += problems
    return result


def _table(view, h, at: int, length: int | None) -> tuple[list[dict], list]:
    """The v4 vendor ramdisk table's entries (at most MAX_VENDOR_RAMDISKS) and its
    ``android/vendor-ramdisk-table`` findings."""
    from kaitaistruct import BytesIO, KaitaiStream

    from validator._kaitai.android_vendor_boot import AndroidVendorBoot

    count, size, table = (h.vendor_ramdisk_table_entry_num,
                          h.vendor_ramdisk_table_entry_size, h.vendor_ramdisk_table_size)
    problems = []

    def problem(message: str, offset: int, field: str) -> None:
        problems.append(finding("android/vendor-ramdisk-table", message, offset=offset,
                                field=field))

    if count and size != VENDOR_RAMDISK_ENTRY_SIZE:
        problem(f"vendor_ramdisk_table_entry_size {size}, sizeof(vendor_ramdisk_table_entry_v4)"
                f" is {VENDOR_RAMDISK_ENTRY_SIZE}", 2120, "vendor_ramdisk_table_entry_size")
        return [], problems
    if count * VENDOR_RAMDISK_ENTRY_SIZE > table:
        problem(f"{count} entries of {VENDOR_RAMDISK_ENTRY_SIZE} bytes do not fit in "
                f"vendor_ramdisk_table_size {table:#x}", 2116,
                "vendor_ramdisk_table_entry_num")
        return [], problems
    if count > MAX_VENDOR_RAMDISKS:
        problem(f"{count} vendor ramdisks; kimage reads at most {MAX_VENDOR_RAMDISKS}",
                2116, "vendor_ramdisk_table_entry_num")
        count = MAX_VENDOR_RAMDISKS
    raw = view.read(at, count * VENDOR_RAMDISK_ENTRY_SIZE)
    entries = []
    total = h.vendor_ramdisk_size
    for i in range(len(raw) // VENDOR_RAMDISK_ENTRY_SIZE):
        chunk = raw[i * VENDOR_RAMDISK_ENTRY_SIZE:(i + 1) * VENDOR_RAMDISK_ENTRY_SIZE]
        e = AndroidVendorBoot.VendorRamdiskTableEntry(KaitaiStream(BytesIO(chunk)))
        kind = VENDOR_RAMDISK_TYPES.get(int(e.ramdisk_type), int(e.ramdisk_type))
        entries.append({"name": e.ramdisk_name, "type": kind, "offset": e.ramdisk_offset,
                        "size": e.ramdisk_size})
        if e.ramdisk_offset + e.ramdisk_size > total:
            problem(f"vendor ramdisk {i} ({e.ramdisk_name or 'unnamed'}): {e.ramdisk_size:#x}"
                    f" bytes at {e.ramdisk_offset:#x} end past vendor_ramdisk_size "
                    f"{total:#x}", at + i * VENDOR_RAMDISK_ENTRY_SIZE, "ramdisk_size")
    return entries, problems
