"""arm64 Image header rules: what the header alone says a loader will do with it.

Facts and loader behaviour: shared/reference/arm64.md sections 1, 2 and 5
(booting.rst; kexec-tools kexec/arch/arm64; Linux 6.1 arch/arm64/kernel/kexec_image.c;
U-Boot arch/arm/lib/image.c).
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.arm64_image import FORMAT as _FORMAT
from validator.formats.arm64_image import LEGACY_TEXT_OFFSET
from validator.rules.engine import Context, check
from validator.units import human_size

FORMAT = (_FORMAT,)
#: Page size loaders align segment bases to when the host's is unknown.
BASE_PAGE = 4096

rule("arm64/image-size-zero", "warning",
     "image_size is 0: a kernel older than 3.17, or a broken header",
     "booting.rst: image_size 0 marks a pre-3.17 kernel whose text_offset is in kernel byte "
     "order. kexec_file_load refuses it (-EINVAL, it needs an unambiguous header); "
     "kexec-tools and U-Boot assume text_offset 0x80000 and a 16 MiB image, which is too small "
     "for any modern kernel.",
     "booting.rst 'Header notes'; Linux 6.1 arch/arm64/kernel/kexec_image.c image_load; "
     "kexec-tools kexec/arch/arm64/kexec-arm64.c arm64_process_image_header",
     ("kexec-file", "kexec-tools", "u-boot"))
rule("arm64/text-offset-unaligned", "warning",
     "text_offset is not a multiple of the page size",
     "Loaders put the image at a 2 MiB-aligned base plus text_offset as one segment: "
     "kexec-tools refuses a base that is not page aligned ('Base address ... is not page "
     "aligned') and kexec_file_load returns -EADDRNOTAVAIL. U-Boot does not check.",
     "kexec-tools kexec/kexec.c add_segment; Linux 6.1 kernel/kexec_core.c "
     "sanity_check_segment_list; loader-truth runs (loadertruth/, text_offset 0x1234)",
     ("kexec-tools", "kexec-file"))
rule("arm64/text-offset-unusual", "info",
     "text_offset is neither 0 (5.8 and later) nor 0x80000 (before 5.8)",
     "Any page-aligned text_offset is legal, but Linux has only ever emitted 0x80000 and, "
     "since 5.8, 0; another value suggests a hand-made or corrupted header.",
     "booting.rst 'Image load offset'; Linux commit cfa7ede20f13",
     ("kexec-tools", "kexec-file", "u-boot"))
rule("arm64/reserved-flags", "info",
     "reserved flag bits 4-63 are set",
     "booting.rst reserves bits 4-63 without requiring zero and no loader reads them, but "
     "binwalk v3 refuses such images and a future kernel may give the bits a meaning.",
     "booting.rst 'Bits 4-63'",
     ())
rule("arm64/reserved-fields", "info",
     "res2, res3 or res4 is not zero",
     "The reserved fields are zero in every kernel; no loader reads them today.",
     "booting.rst 'Header notes'",
     ())
rule("arm64/page-size-unspecified", "info",
     "flags give no page size",
     "Kernels before the page-size field (about 4.4) leave it 0; kexec_file_load then cannot "
     "check that the CPU supports the kernel's granule.",
     "booting.rst 'Bits 1-2'; Linux 6.1 arch/arm64/kernel/kexec_image.c",
     ("kexec-file",))
rule("arm64/no-efi-stub", "info",
     "code0 has no \"MZ\": the Image has no EFI stub",
     "GRUB 2.12 refuses a plain Image ('plain image kernel not supported') and UEFI firmware "
     "cannot start it; kexec and U-Boot booti do not care.",
     "GRUB loader/efi/linux.c; systemd src/boot/pe.c verify_dos",
     ("grub", "efi"))
rule("arm64/pe-offset-invalid", "warning",
     "code0 says \"MZ\" but res5 does not point at a \"PE\\0\\0\" signature",
     "An EFI-stub Image keeps the PE header offset in res5 (e_lfanew); firmware and GRUB "
     "read the PE header there and refuse the image when it is missing.",
     "Linux 6.1 arch/arm64/kernel/efi-header.S; EDK2 PeCoffLoaderGetPeHeader; GRUB "
     "loader/efi/linux.c",
     ("grub", "efi"))
rule("arm64/pe-machine", "warning",
     "the PE header is not for arm64 (Machine is not 0xaa64)",
     "UEFI firmware and systemd-boot only start PE images of their own machine type.",
     "PE/COFF IMAGE_FILE_MACHINE_ARM64; systemd src/boot/pe.c verify_pe",
     ("grub", "efi"))
rule("arm64/pe-offset-without-mz", "info",
     "res5 is set although code0 has no \"MZ\"",
     "res5 is the PE header offset only in EFI-stub Images; elsewhere it is reserved and 0.",
     "booting.rst 'Header notes'",
     ())
rule("arm64/image-size-smaller-than-file", "warning",
     "the file holds more bytes than image_size says the kernel occupies",
     "kexec_file_load places the whole file in a segment of image_size + text_offset bytes "
     "and refuses a buffer larger than its segment (-EINVAL); kexec-tools silently drops the "
     "bytes beyond image_size. A signature appended after the image counts too.",
     "Linux 6.1 kernel/kexec_core.c sanity_check_segment_list; kexec-tools kexec/kexec.c",
     ("kexec-file", "kexec-tools"))
rule("arm64/entry-outside-image", "error",
     "code1 branches outside the image",
     "In every kernel since 3.12 with a branch in code1 it jumps to the primary entry inside "
     "the image; a target before the header's end or past the file means the kernel cannot "
     "start.",
     "Linux 6.1 arch/arm64/kernel/head.S",
     ("kexec-tools", "kexec-file", "u-boot", "grub", "efi"))
rule("arm64/image-size-implausible", "error",
     "image_size is 1 GiB or more",
     "No arm64 kernel occupies that much (a distro kernel is tens of MiB); loaders must find "
     "one free range of that size: kexec-tools fails ('Could not find a free area of "
     "memory'), U-Boot refuses ('FDT image overlaps OS image') or crashes copying it, "
     "kexec_file_load finds no hole, QEMU's -kernel exits ('too large to fit in RAM', 'Not "
     "enough space for DTB'). A header whose fields were written big-endian reads like this. "
     "Exception seen: U-Boot 2023.01 adds image_size to the load address without an overflow "
     "check, so 0xffffffffffff0000 wraps and booti starts the kernel.",
     "loader-truth runs (loadertruth/, variants image-size 2g/4g/1t, header-byteswapped); "
     "kexec-tools kexec/kexec.c locate_hole; QEMU 7.2 hw/arm/boot.c "
     "arm_setup_direct_kernel_boot",
     ("kexec-tools", "kexec-file", "u-boot", "qemu"))
rule("arm64/text-offset-implausible", "error",
     "text_offset is 1 GiB or more",
     "text_offset places the image inside a 2 MiB-aligned region; kexec-tools needs a free "
     "range of text_offset + image_size bytes and fails to find one. U-Boot adds it to the "
     "load address unchecked. QEMU's -kernel loads the image there and then finds no room "
     "for the DTB, or (a wrapped value) lays it over its boot stub. Exceptions seen: "
     "kexec-tools 2.0.25 `kexec -p` does not range-check it and places a wrapping value "
     "(-0x1000) below the crash region, for the kernel to refuse at the system call; "
     "Linux 6.1 kexec_file_load adds it to image_size modulo 2^64 and loads such a value "
     "in normal mode (validator/loaders/kexec_file.py).",
     "loader-truth runs (loadertruth/, variants text-offset 4g/huge); kexec-tools "
     "kexec/arch/arm64/kexec-image-arm64.c",
     ("kexec-tools", "kexec-file", "qemu"))
rule("arm64/pe-sections-outside-file", "error",
     "a PE section or the certificate table extends past the end of the file",
     "UEFI firmware (EDK2 PeCoffLoaderLoadImage, and the image verification that reads the "
     "certificate table) refuses a PE image whose section data or signature is not all in "
     "the file; a file cut short after the build or after signing fails this way.",
     "EDK2 MdePkg BasePeCoffLib, DxeImageVerificationLib; loader-truth runs (variant "
     "truncated minus-1 of the signed Debian Image)",
     ("efi", "grub"))
rule("arm64/file-truncated", "error",
     "the file ends before the kernel its headers describe: it was cut short",
     "An EFI-stub Image carries its own length: the PE/COFF headers, every section's raw "
     "data and the certificate table of a signed Image lie inside the file, and code1 "
     "branches into the text. When any of them lies past the end, the copy was cut short "
     "(an interrupted download or copy, a full disk, a wrong dd count). Firmware and GRUB "
     "refuse it; kexec-tools, kexec_file_load, U-Boot booti and QEMU load what is there "
     "and the kernel cannot start. The consequences (arm64/pe-sections-outside-file, "
     "arm64/entry-outside-image) are folded under this finding.",
     "EDK2 MdePkg BasePeCoffLib PeCoffLoaderLoadImage; loader-truth runs (loadertruth/, "
     "variants truncated 64 bytes to minus-1)",
     ("efi", "grub"))
rule("arm64/uimage-placement", "info",
     "the uImage load address or entry point does not start the Image as booting.rst asks",
     "A loader that honours the uImage header copies the Image to ih_load and jumps to ih_ep; "
     "booting.rst wants the Image text_offset bytes above a 2 MiB-aligned base and entered "
     "at its first byte. QEMU's -kernel does exactly what the header says (observed: "
     "ih_load 0x80000 starts the kernel there); U-Boot booti moves an Image itself.",
     "booting.rst 'Call the kernel image'; QEMU 7.2 hw/core/loader.c load_uboot_image; "
     "loader-truth runs (loadertruth/qemu.py)",
     ("qemu",))

IMPLAUSIBLE = 1 << 30
SZ_2M = 2 << 20


@check(formats=FORMAT)
def uimage_placement(ctx: Context):
    u = ctx.layer("uimage")
    if u is None or u.get("type") != "kernel" or u.get("load_address") is None:
        return
    h = ctx.header
    offset = h["text_offset"] if h["image_size"] else LEGACY_TEXT_OFFSET
    load, ep = u["load_address"], u["entry_point"]
    if (load - offset) % SZ_2M:
        yield finding("arm64/uimage-placement",
                      f"ih_load {load:#x} - text_offset {offset:#x} is not 2 MiB aligned")
    elif ep != load:
        yield finding("arm64/uimage-placement",
                      f"ih_ep {ep:#x} is not the Image's first byte (ih_load {load:#x})")


@check(formats=FORMAT)
def implausible(ctx: Context):
    h = ctx.header
    if h["image_size"] >= IMPLAUSIBLE:
        yield finding("arm64/image-size-implausible", f"image_size is {h['image_size']:#x}",
                      offset=0x10, field="image_size")
    if h["image_size"] and h["text_offset"] >= IMPLAUSIBLE:
        yield finding("arm64/text-offset-implausible", f"text_offset is {h['text_offset']:#x}",
                      offset=0x08, field="text_offset")


@check(formats=FORMAT)
def image_size(ctx: Context):
    h = ctx.header
    if h["image_size"] == 0:
        yield finding("arm64/image-size-zero",
                      "image_size is 0: kexec_file_load refuses the image, kexec-tools and "
                      "U-Boot assume 16 MiB at text_offset 0x80000", offset=0x10,
                      field="image_size")
        return
    payload = ctx.loaded_size()
    memsz = h["image_size"] + h["text_offset"]
    if payload is not None and payload > memsz:
        yield finding("arm64/image-size-smaller-than-file",
                      f"the image is {payload:#x} bytes but image_size + text_offset is "
                      f"{memsz:#x}", offset=0x10, field="image_size")


@check(formats=FORMAT)
def text_offset(ctx: Context):
    h = ctx.header
    if h["image_size"] == 0:
        return  # loaders ignore text_offset then
    value = h["text_offset"]
    if value % BASE_PAGE:
        yield finding("arm64/text-offset-unaligned",
                      f"text_offset {value:#x} is not a multiple of {BASE_PAGE:#x}",
                      offset=0x08, field="text_offset")
    elif value not in (0, LEGACY_TEXT_OFFSET):
        yield finding("arm64/text-offset-unusual", f"text_offset is {value:#x}",
                      offset=0x08, field="text_offset")


@check(formats=FORMAT)
def reserved(ctx: Context):
    h = ctx.header
    if h["image_size"] and h["flags"]["reserved"]:
        yield finding("arm64/reserved-flags",
                      f"flags bits 4-63 are {h['flags']['reserved']:#x}", offset=0x18,
                      field="flags.reserved")
    for name, offset in (("res2", 0x20), ("res3", 0x28), ("res4", 0x30)):
        if h[name]:
            yield finding("arm64/reserved-fields", f"{name} is {h[name]:#x}", offset=offset,
                          field=name)


@check(formats=FORMAT)
def page_size(ctx: Context):
    h = ctx.header
    if h["image_size"] and h["flags"]["page_size"] == "unspecified":
        yield finding("arm64/page-size-unspecified", "flags bits 1-2 are 0", offset=0x18,
                      field="flags.page_size")


@check(formats=FORMAT)
def efi_stub(ctx: Context):
    h, derived = ctx.header, ctx.result.derived
    if not h["has_efi_stub"]:
        yield finding("arm64/no-efi-stub", f"code0 is {h['code0']:#010x}", offset=0,
                      field="code0")
        if h["pe_offset"]:
            yield finding("arm64/pe-offset-without-mz", f"res5 is {h['pe_offset']:#x}",
                          offset=0x3C, field="pe_offset")
        return
    if _pe_offset_past_end(ctx):
        return  # arm64/file-truncated (extent)
    if not derived.get("pe_signature_at_pe_offset"):
        yield finding("arm64/pe-offset-invalid",
                      f"no \"PE\\0\\0\" at res5 = {h['pe_offset']:#x}", offset=0x3C,
                      field="pe_offset")
    elif derived.get("pe_machine") != 0xAA64:
        yield finding("arm64/pe-machine",
                      f"PE Machine is {derived.get('pe_machine'):#06x}, not 0xaa64",
                      offset=h["pe_offset"] + 4, field="pe_offset")


@check(formats=FORMAT)
def extent(ctx: Context):
    """Does the file hold what its headers describe? A PE header, section or certificate
    table past the end (with code1's branch past the end, if it is) is one cause: the
    file was cut short (``arm64/file-truncated``), each consequence folded under it.
    Without PE evidence each is its own finding: a non-EFI Image does not say how long
    its file is."""
    past_end = list(_past_end(ctx))
    target = ctx.header["code1_branch_target"]
    limit = ctx.loaded_size()
    if 0 <= target < 0x40:
        yield finding("arm64/entry-outside-image",
                      f"code1 branches to {target:#x}, into the header", offset=4, field="code1")
    elif target >= 0 and limit is not None and target >= limit:
        past_end.append(("code1's branch target", finding(
            "arm64/entry-outside-image", f"code1 branches to {target:#x}, past the end "
            f"({limit:#x})", offset=4, field="code1")))
    if all(part == "code1's branch target" for part, _ in past_end):
        yield from (f for _, f in past_end)
        return
    h = ctx.header
    size = limit if limit is not None else ctx.result.file_size
    claims = f" but the header says the kernel is {human_size(h['image_size'])} " \
        f"(image_size)" if h["image_size"] else ""
    what = ", ".join(dict.fromkeys(part for part, _ in past_end))
    root = finding("arm64/file-truncated",
                   f"the file is {human_size(size or 0)}{claims}; {what} lie past its end: "
                   f"the file was cut short", field="pe_offset")
    root.consequences = [{"rule": f.rule, "message": f.message} for _, f in past_end]
    yield root


#: pe_offset values a cut-short file can explain (the kernel's is 0x40); a larger one
#: past the end is a wrong pe_offset, arm64/pe-offset-invalid.
PE_OFFSET_PLAUSIBLE = 0x1000


def _pe_offset_past_end(ctx: Context) -> bool:
    """res5 points at a PE header that the file ends before (a file cut short)."""
    h, limit = ctx.header, ctx.loaded_size()
    return (h["has_efi_stub"] and limit is not None and 0 < h["pe_offset"] <=
            PE_OFFSET_PLAUSIBLE and h["pe_offset"] + 24 > limit)


def _past_end(ctx: Context):
    """(what, finding) for each part of the PE image that lies past the end of the file."""
    if _pe_offset_past_end(ctx):
        yield "the PE/COFF headers", finding(
            "arm64/pe-offset-invalid", f"res5 = {ctx.header['pe_offset']:#x}: the PE header "
            f"lies past the end of the file", offset=0x3C, field="pe_offset")
        return
    zboot = ctx.layer("zboot") or {}
    pe_headers = (ctx.result.derived.get("pe") or {}, zboot.get("pe") or {})
    for pe in pe_headers:
        if pe.get("truncated"):
            yield "the PE/COFF headers", finding(
                "arm64/pe-sections-outside-file", f"the PE/COFF headers at "
                f"{pe.get('pe_offset', 0):#x} run past the end of the file", field="pe_offset")
    for section in (s for pe in pe_headers for s in pe.get("sections", [])):
        if section.get("raw_in_file") is False:
            end = section["raw_offset"] + section["raw_size"]
            yield "PE sections", finding(
                "arm64/pe-sections-outside-file",
                f"section {section['name'] or '?'} ends at {end:#x}, past the file",
                field="pe_offset")
    for pe in pe_headers:
        cert = pe.get("authenticode") or {}
        if cert.get("in_file") is False:
            yield "the certificate table", finding(
                "arm64/pe-sections-outside-file", f"the certificate table at "
                f"{cert['offset']:#x} ({cert['size']:#x} bytes) ends past the file",
                field="pe_offset")
