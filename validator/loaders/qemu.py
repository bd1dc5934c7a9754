"""QEMU's direct kernel boot: ``qemu-system-aarch64 -M virt -kernel FILE``, no firmware.

hw/arm/boot.c ``arm_setup_direct_kernel_boot`` (QEMU 7.2) tries, in order: ``arm_load_elf``
(an ELF is loaded at its physical addresses and started at e_entry as a bare-metal program,
without the boot stub that puts the DTB in x0), ``load_uimage_as`` (hw/core/loader.c
``load_uboot_image``: ih_type kernel or kernel_noload, ih_comp none or gzip, no CRC or
arch check; loaded at ih_load, started at ih_ep, a Linux boot only for ih_os Linux), then
``load_aarch64_image``: gunzip when the file starts ``1f 8b`` (``load_image_gzipped_buffer``,
at most 256 MiB), "ARM\\x64" at 0x38 of a buffer longer than 60 bytes, then a non-zero
image_size is the size and text_offset the offset from RAM base (+ 2 MiB below 4 KiB, where
the boot stub lives); without the magic, or with image_size 0, offset 0x80000 and the file's
size. Nothing else in the header is read. It then refuses a size over the RAM ("too large
to fit in RAM"), a negative one (image_size >= 2^63 in an ``ssize_t``: "could not load
kernel"), a DTB that no longer fits after the image ("Not enough space for DTB after
kernel/initrd") and overlapping ROM blobs ("Some ROM regions are overlapping",
hw/core/loader.c ``rom_check_and_register_reset``).

Verdict (loadertruth/qemu.py checks it on the machine state at the kernel's first
instruction): accept when QEMU starts the file as a Linux arm64 Image as booting.rst asks
(entry = 2 MiB-aligned base + text_offset in RAM, "ARM\\x64" there, x0 = the DTB, the image
inside the RAM); the raw-blob fallback for a file without the magic is a reject: QEMU then
jumps to RAM base + 0x80000 into bytes that are no Image. Version: QEMU 7.2 (run).
"""

from __future__ import annotations

from validator.loaders import riscv, x86
from validator.rules.engine import Context

NAME = "qemu"
VERSIONS = "QEMU 7.2, 10.0 and 11.1 (run)"
#: QEMU 10.0 (Debian 13's 1:10.0.13) and 11.1 (unstable's 1:11.1.3) give the same verdict
#: as 7.2 on all 353 arm64 loader-truth variants: nothing here changes with the release.
RELEASES = (
    ("7.2", "v7.2.0 hw/arm/boot.c", "run"),
    ("10.0", "v10.0.0 hw/arm/boot.c", "run"),
    ("11.1", "v11.1.0 hw/arm/boot.c", "run"),
)
NOT_APPLICABLE = "qemu-system-aarch64 -kernel is modelled for arm64 kernels only"

REJECTS = {
    "layer/not-unwrapped": "arm_setup_direct_kernel_boot: ELF, uImage, gzip and Image only; "
                           "anything else is loaded as a raw blob",
    "elf/arm64-vmlinux": "arm_load_elf loads a vmlinux ELF at its physical addresses and "
                         "starts it as a bare-metal program: no DTB in x0",
    "layer/unknown-format": "load_aarch64_image: no ARM\\x64 magic at 0x38, loaded as a raw "
                            "blob at RAM base + 0x80000",
    "arm64/bad-magic": "load_aarch64_image: no ARM\\x64 magic at 0x38, loaded as a raw blob "
                       "at RAM base + 0x80000",
    "arm64/image-size-implausible": "arm_setup_direct_kernel_boot: 'too large to fit in RAM', "
                                    "'could not load kernel' or 'Not enough space for DTB'",
    "arm64/text-offset-implausible": "arm_setup_direct_kernel_boot: 'Not enough space for "
                                     "DTB', or rom_check_and_register_reset: 'Some ROM "
                                     "regions are overlapping'",
    "arm64/uimage-placement": "load_uboot_image: the Image is started at ih_ep where ih_load "
                              "put it, not at a 2 MiB-aligned base + text_offset",
    "layer/truncated": "gunzip fails: the file is loaded as a raw blob",
    "layer/corrupt": "gunzip fails: the file is loaded as a raw blob",
    "uimage/compression-mismatch": "load_uboot_image: the payload is not what ih_comp says",
    "target/arch-mismatch": "qemu-system-aarch64 boots AArch64 kernels",
}
REJECTS.update(x86.REJECTS[NAME])  # an x86 bzImage's (validator/loaders/x86.py)
REJECTS.update(riscv.REJECTS[NAME])  # a riscv64 kernel's (validator/loaders/riscv.py)

#: Layers of a package (and everything before them), not of the kernel file it installs:
#: a Debian package and its data.tar, an RPM and its payload's cpio, an Arch Linux package
#: (its zstd before it).
PACKAGE_LAYERS = ("deb", "tar", "rpm", "cpio", "archpkg")
#: hw/arm/virt.c memmap: RAM (VIRT_MEM) starts at 1 GiB.
VIRT_RAM_BASE = 0x40000000
#: hw/core/loader.c load_uboot_image: the ih_comp values it undoes (none, gzip).
UIMAGE_COMPRESSION = {None, "gzip"}
#: hw/arm/boot.c load_aarch64_image: the magic is compared when the buffer is longer than
#: 56 + 4 bytes; a 61-byte file is enough.
MAGIC_NEEDS = 61


def applies(ctx: Context) -> bool:
    if x86.judges(ctx):
        return x86.applies(NAME, ctx)
    if riscv.judges(ctx):
        return riscv.applies(NAME, ctx)
    return ctx.arch() != "ppc64"


def _zboot(ctx: Context, version: str) -> tuple[bool, str]:
    """Does this release unpack the EFI zboot image (hw/core/loader.c
    ``unpack_efi_zboot_image``, called by load_aarch64_image), and why. Runs of Debian's
    QEMU 7.2, 10.0.13 and 11.1.3 (loadertruth, tests/test_loadertruth_versions.py) and
    ``validator.conventions.ZBOOT_CONSUMERS``."""
    from validator.formats.zboot import LINUX_PE_MAGIC

    d = ctx.result.layers[[layer.kind for layer in ctx.result.layers].index("zboot")].details
    name = d.get("compression")
    if version == "7.2":
        return False, ("QEMU 7.2 has no zboot code: the PE is loaded as a raw blob at RAM "
                       "base + 0x80000 (boot it through firmware, -bios)")
    if d.get("linux_pe_magic") != LINUX_PE_MAGIC:
        return False, ("no Linux PE magic at 0x38 (a zboot of a kernel before 6.2): "
                       "unpack_efi_zboot_image does not take it; a raw blob")
    if name == "gzip" or (name == "zstd" and version != "10.0"):
        return True, (f"unpack_efi_zboot_image undoes the {name} payload (QEMU {version}; "
                      f"zstd from 11.1, when built with libzstd as Debian's is)")
    return False, (f"unpack_efi_zboot_image: 'unable to handle EFI zboot image with "
                   f"\"{name}\" compression' (QEMU {version} takes gzip"
                   f"{'' if version == '10.0' else ' and a payload named exactly zstd'})")


def special(ctx: Context, version: str = RELEASES[-1][0]):
    if x86.judges(ctx):
        yield from x86.special(NAME, ctx, version)
        return
    # a package is judged as the kernel file it installs (PACKAGE_LAYERS)
    rest = [layer.kind for layer in ctx.result.layers]
    last = max((i for i, kind in enumerate(rest) if kind in PACKAGE_LAYERS), default=-1)
    del rest[:last + 1]  # the package and its archive's compression
    if "elf" in rest:
        return  # elf/arm64-vmlinux is a finding
    if rest[:1] == ["uimage"]:
        rest.pop(0)
        yield from _uimage(ctx)
    if rest[:1] == ["gzip"]:
        rest.pop(0)
        yield (None, "gzip: QEMU decompresses it (at most 256 MiB)", False)
    if rest[:1] == ["zboot"]:
        rest.pop(0)
        unpacks, why = _zboot(ctx, version)
        yield ("layer/zboot" if not unpacks else None, why, not unpacks)
        if not unpacks:
            return
        del rest[:1]  # the payload's codec: unpack_efi_zboot_image undoes it
    if rest:
        kind = rest[0]
        if ctx.facts.get("compression") == kind:
            yield ("layer/compressed", f"QEMU gunzips only: {kind} is loaded as a raw blob",
                   True)
        else:
            yield ("layer/not-unwrapped", f"QEMU does not unwrap {kind}: the file is "
                   "loaded as a raw blob", True)
        return
    short = next((f for f in ctx.result.findings if f.rule == "arm64/truncated-header"), None)
    if short is not None and short.offset is not None:
        if short.offset < MAGIC_NEEDS:
            yield ("arm64/truncated-header", f"{short.offset} bytes: load_aarch64_image reads "
                   "the magic only in a file longer than 60 bytes; a raw blob at RAM base + "
                   "0x80000", True)
        else:
            yield (None, f"{short.offset} bytes hold the magic: QEMU starts the truncated "
                   "header as an Image", False)
    h = ctx.header
    if not h or ctx.result.format != "arm64-image":
        return
    if h.get("image_size") == 0:
        yield (None, "image_size 0: loaded at RAM base + 0x80000, its size taken from the "
               "file", False)
    elif 0 < h.get("text_offset", 0) < 0x1000:
        yield (None, "text_offset below 4 KiB: loaded 2 MiB above RAM base (the boot stub is "
               "at RAM base)", False)


def _uimage(ctx: Context):
    u = ctx.layer("uimage") or {}
    if u.get("compression") not in UIMAGE_COMPRESSION:
        yield ("layer/compressed", f"load_uboot_image undoes no {u.get('compression')}: "
               "the whole uImage is loaded as a raw blob", True)
    if u.get("type") not in ("kernel", "kernel_noload"):
        yield ("layer/unknown-format", f"load_uboot_image takes kernel images, not "
               f"{u.get('type')}: the whole uImage is loaded as a raw blob", True)
    elif u.get("type") == "kernel_noload":
        yield ("arm64/uimage-placement", "kernel_noload: QEMU puts it at RAM base + 32 MiB "
               "+ 64, not at a 2 MiB-aligned base + text_offset", True)
    if u.get("os") != "linux":
        yield ("layer/unknown-format", "ih_os is not Linux: started without the boot stub "
               "(no DTB in x0)", True)
    load = u.get("load_address")
    if u.get("type") == "kernel" and load is not None and load < VIRT_RAM_BASE:
        yield ("arm64/uimage-placement", f"ih_load {load:#x} is below the RAM of -M virt "
               f"({VIRT_RAM_BASE:#x})", True)
    if u.get("header_crc_ok") is False:
        yield (None, "load_uboot_image does not check the header CRC", False)
