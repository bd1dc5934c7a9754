"""The kernel's kexec_file_load (``kexec -s``), as Linux 6.1 implements it.

arm64 (arch/arm64/kernel/kexec_image.c): only a raw Image: length >= 64 and the magic
(image_probe); then image_size != 0, the BE flag equal to the running kernel's unless
mixed-endian, a page size the CPU supports; one segment of image_size + text_offset,
2 MiB aligned, that must hold the whole file. ppc64 (kernel/kexec_elf.c,
arch/powerpc/kexec/elf_64.c): ELFCLASS64, EM_PPC64, ET_EXEC or ET_DYN, program headers,
no PT_INTERP; 1 written at 0x5c for every crash kernel.
"""

from __future__ import annotations

from validator.loaders import riscv, x86
from validator.rules.engine import Context

NAME = "kexec-file"
VERSIONS = "Linux 6.1 (run) to 6.16 (read)"
#: arch/arm64/kernel/kexec_image.c image_probe/image_load: the checks are the same from
#: v6.1 to the newest kernels (a wrong magic returns -EINVAL, which makes kexec-tools
#: 2.0.27+ fall back to kexec_load); no zboot or UKI loader is merged.
RELEASES = (
    ("6.1", "v6.1 arch/arm64/kernel/kexec_image.c", "run"),
    ("6.12", "v6.12 arch/arm64/kernel/kexec_image.c", "read"),
    ("6.16", "v6.16 arch/riscv/kernel/kexec_image.c (809a11eea8e8: the riscv Image loader; "
             "arm64's unchanged)", "read"),
)

REJECTS = {
    "elf/arm64-vmlinux": "arm64 kexec_file_loaders[] has only the Image loader (image_probe)",
    "layer/unknown-format": "no kexec_file_loaders[] entry probes the file",
    "layer/compressed": "arm64: kexec_image_ops takes only an uncompressed Image",
    "layer/zboot": "image_probe: no ARM\\x64 magic at 0x38 of a zboot PE",
    "layer/uki": "image_probe: no ARM\\x64 magic at 0x38 of a UKI (no UKI loader is merged)",
    "layer/uimage": "image_probe: no ARM\\x64 magic at 0x38 of a uImage (the 64-byte "
                    "header is in front of the Image)",
    "layer/android": "image_probe: no ARM\\x64 magic at 0x38 of an Android boot image",
    "layer/fit": "image_probe: no ARM\\x64 magic at 0x38 of a FIT",
    "arm64/bad-magic": "image_probe: memcmp of the magic",
    "arm64/truncated-header": "image_probe: kernel_len < sizeof(struct arm64_image_header)",
    "arm64/image-size-zero": "image_load: !h->image_size returns -EINVAL",
    "arm64/text-offset-unaligned": "kexec_core.c: segment start not page aligned",
    "arm64/image-size-smaller-than-file": "sanity_check_segment_list: bufsz > memsz",
    "elf/malformed": "kexec_elf.c elf_read_ehdr / elf_read_phdrs",
    "elf/no-load-segment": "no PT_LOAD to place",
    "elf/truncated": "kexec_elf.c: program header data past the end of the buffer",
    "elf/type": "elf_read_ehdr: e_type must be ET_EXEC or ET_DYN",
    "elf/unsupported-machine": "elf64_probe: e_machine must be EM_PPC64",
    "arm64/image-size-implausible": "kexec_add_buffer: no hole of that size",
    # arm64/text-offset-implausible: decided in special(), a wrapping value loads
    "ppc64/raw-head": "elf64_probe: not an ELF file",
    "ppc64/elf-not-elf64": "elf_read_ehdr: EI_CLASS must be ELFCLASS64",
    "ppc64/endian-mismatch": "purgatory stores __run_at_load in the wrong byte order",
    "target/arch-mismatch": "only the running architecture's loaders exist",
    "target/endianness": "image_load: BE flag differs and no mixed-endian support",
    "target/page-size": "image_load: page size not supported by the CPU",
}
REJECTS.update(x86.REJECTS[NAME])  # an x86 bzImage's (validator/loaders/x86.py)
REJECTS.update(riscv.REJECTS[NAME])  # a riscv64 kernel's (validator/loaders/riscv.py)


def applies(ctx: Context) -> bool:
    if x86.judges(ctx):
        return x86.applies(NAME, ctx)
    if riscv.judges(ctx):
        return riscv.applies(NAME, ctx)
    return True


U64 = 1 << 64
PAGE = 4096
#: as validator/rules/arm64.py IMPLAUSIBLE: no hole of 1 GiB in a machine worth modelling
IMPLAUSIBLE = 1 << 30


def _align(v: int, a: int) -> int:
    return (v + a - 1) // a * a % U64


def _text_offset(ctx: Context):
    """text_offset of 1 GiB or more, as Linux 6.1 computes with it (unsigned long).

    arch/arm64/kernel/kexec_image.c image_load asks kexec_add_buffer for a 2 MiB-aligned
    hole of image_size + text_offset bytes (kernel/kexec_file.c kexec_add_buffer rounds
    it up to a page), then moves the segment start up by text_offset and shrinks its
    size by as much; kernel/kexec_core.c sanity_check_segment_list then wants
    page-aligned ends and bufsz <= memsz. All of it is modulo 2^64: a text_offset whose
    sum with image_size wraps (e.g. -0x1000) asks for a hole of image_size - 0x1000 and
    puts the segment 0x1000 below it, which the normal load accepts (loader-truth:
    kexec-file-kernel, text-offset--huge, Linux 6.1.176). A crash load is refused
    (-EADDRNOTAVAIL): sanity_check_segment_list keeps crash segments inside crashk_res.
    """
    h = ctx.header
    size, offset = h["image_size"], h["text_offset"]
    if not size or offset < IMPLAUSIBLE:
        return
    if size + offset < U64:
        yield ("arm64/text-offset-implausible",
               "kexec_add_buffer: no hole of image_size + text_offset bytes", True)
        return
    hole = _align((size + offset) % U64, PAGE)
    if hole >= IMPLAUSIBLE:
        yield ("arm64/text-offset-implausible",
               f"image_size + text_offset wraps to {hole:#x}: no hole of that size", True)
        return
    memsz = (hole - offset) % U64
    payload = ctx.loaded_size()
    if payload is not None and payload > memsz:
        yield ("arm64/image-size-smaller-than-file",
               f"image_size + text_offset wraps: the segment holds {memsz:#x} bytes, less "
               f"than the {payload:#x}-byte file (sanity_check_segment_list: bufsz > memsz)",
               True)
        return
    yield (None, f"text_offset {offset:#x} wraps around with image_size: kexec_file_load "
           f"places the kernel {U64 - offset:#x} bytes below a 2 MiB-aligned hole of "
           f"{hole:#x} bytes and accepts it; a crash load (KEXEC_FILE_ON_CRASH) is refused, "
           "the segment starts below the crash region", False)


def special(ctx: Context, version: str = RELEASES[-1][0]):
    if x86.judges(ctx):
        yield from x86.special(NAME, ctx, version)
        return
    if riscv.judges(ctx):
        yield from riscv.special(NAME, ctx, version)
        return
    if ctx.result.format == "arm64-image" and ctx.layer("elf") is None and ctx.header:
        yield from _text_offset(ctx)
    if ctx.result.format == "ppc64-head" and ctx.header.get("run_at_load") == 0:
        yield (None, "a crash kernel gets 1 at 0x5c although it is not relocatable", False)
