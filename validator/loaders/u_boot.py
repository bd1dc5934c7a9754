"""U-Boot ``booti`` (arch/arm/lib/image.c booti_setup, cmd/booti.c, boot/image.c).

The magic is required ("Bad Linux ARM64 Image magic!"); image_size 0 means 16 MiB at
text_offset 0x80000; flags bit 3 = 0 (or force_reloc) moves the image to the start of
DRAM bank 0; endianness and page size are not read; compressed kernels (gzip, bzip2, lzma,
lzo, lz4, zstd by their first bytes) need kernel_comp_addr_r and kernel_comp_size.
Versions: U-Boot 2023.01 and 2025.01 (run), 6073c36 v2026.10-rc2+ (read). Seen in
2023.01 and 2025.01 and not modelled: image_size is added to the load address without an
overflow check, so a value that wraps (0xffffffffffff0000) is started
(loadertruth.compare.EXPLAINED).
"""

from __future__ import annotations

from validator.loaders import riscv, x86
from validator.rules.engine import Context

NAME = "u-boot"
VERSIONS = "U-Boot 2023.01 and 2025.01 (run) to v2026.10-rc2 (read)"
#: booti_setup (arch/arm/lib/image.c) reads the header the same way in every release
#: modelled; from v2025.10 booti reserves the image's placement in the LMB and fails
#: where it overlaps reserved or allocated memory, which depends on the board, not on the
#: image, so no verdict here changes with the release.
RELEASES = (
    ("2023.01", "v2023.01 arch/arm/lib/image.c", "run"),
    ("2025.01", "v2025.01 arch/arm/lib/image.c (Debian 13's 2025.01-3+deb13u1)", "run"),
    ("2025.10", "v2025.10 boot/bootm.c (reference, placement only)", "read"),
)
NOT_APPLICABLE = "booti starts arm64 Images only"

REJECTS = {
    "elf/arm64-vmlinux": "booti_setup: an ELF has no ARM\\x64 magic at 0x38",
    "layer/unknown-format": "booti_setup: no ARM\\x64 magic",
    "layer/zboot": "booti_setup: a zboot PE has no ARM\\x64 magic (use bootefi)",
    "layer/uki": "booti_setup: a UKI has no ARM\\x64 magic (bootefi starts it)",
    "layer/uimage": "booti_setup: 'Bad Linux ARM64 Image magic!' (bootm takes a uImage)",
    "layer/android": "booti_setup: a boot.img has no ARM\\x64 magic (bootm takes it where "
                     "U-Boot is built with CONFIG_ANDROID_BOOT_IMAGE)",
    "layer/fit": "booti_setup: a FIT has no ARM\\x64 magic (bootm takes a FIT)",
    "arm64/bad-magic": "booti_setup: 'Bad Linux ARM64 Image magic!'",
    "arm64/image-size-implausible": "'FDT image overlaps OS image', or a crash copying it",
    "target/arch-mismatch": "booti is arm64 only",
    "uimage/bad-data-crc": "bootm image_get_kernel: 'Bad Data CRC' (unless verify=no)",
}
REJECTS.update(x86.REJECTS[NAME])  # an x86 bzImage's (validator/loaders/x86.py)
REJECTS.update(riscv.REJECTS[NAME])  # a riscv64 kernel's (validator/loaders/riscv.py)

#: Codecs boot/image.c image_comp recognises by their first two bytes.
DECOMPRESSES = {"gzip", "bzip2", "lzma", "lzo", "lz4", "zstd"}
#: Layers bootm takes and booti refuses (REJECTS): the kernel inside is bootm's to
#: decompress (a FIT's compression property, a uImage's ih_comp, an Android boot image's
#: kernel by its first bytes, boot/image-android.c android_image_get_kcomp).
BOOTM_WRAPPERS = ("fit", "uimage", "android-boot")


def applies(ctx: Context) -> bool:
    if x86.judges(ctx):
        return x86.applies(NAME, ctx)
    if riscv.judges(ctx):
        return riscv.applies(NAME, ctx)
    return ctx.arch() != "ppc64"


def special(ctx: Context, version: str = RELEASES[-1][0]):
    if x86.judges(ctx):
        yield from x86.special(NAME, ctx, version)
        return
    if riscv.judges(ctx):
        yield from riscv.special(NAME, ctx, version)
    compression = ctx.facts.get("compression")
    if compression and any(ctx.layer(kind) is not None for kind in BOOTM_WRAPPERS):
        # booti refuses the wrapper itself (REJECTS); bootm, which takes it, decompresses
        # the kernel inside by the wrapper's field or the kernel's first bytes
        yield (None, f"{compression}: bootm decompresses the kernel inside", False)
    elif compression and ctx.layer("zboot") is None:
        if compression in DECOMPRESSES:
            yield ("layer/compressed", f"{compression}: booti refuses it unless the board's "
                   "environment sets kernel_comp_addr_r and kernel_comp_size", True)
        else:
            yield ("layer/compressed", f"booti does not undo {compression}", True)
    h = ctx.header
    if ctx.result.format != "arm64-image":
        return
    if h.get("image_size") == 0:
        yield (None, "image_size 0: assumes 16 MiB at text_offset 0x80000", False)
    elif h and not h["flags"]["phys_base"]:
        yield (None, "flags bit 3 is 0: the image is moved to the start of DRAM", False)
