"""The kernel's kexec_file_load (``kexec -s``), as Linux 6.1 implements it.

arm64 (arch/arm64/kernel/kexec_image.c): only a raw Image: length >= 64 and the magic
(image_probe); then image_size != 0, the BE flag equal to the running kernel's unless
mixed-endian, a page size the CPU supports; one segment of image_size + text_offset,
2 MiB aligned, that must hold the whole file. ppc64 (kernel/kexec_elf.c,
arch/powerpc/kexec/elf_64.c): ELFCLASS64, EM_PPC64, ET_EXEC or ET_DYN, program headers,
no PT_INTERP; 1 written at 0x5c for every crash kernel.
"""

from __future__ import annotations

from validator.rules.engine import Context

NAME = "kexec-file"
VERSIONS = "Linux 6.1 (read)"

REJECTS = {
    "layer/unknown-format": "no kexec_file_loaders[] entry probes the file",
    "layer/compressed": "arm64: kexec_image_ops takes only an uncompressed Image",
    "layer/zboot": "image_probe: no ARM\\x64 magic at 0x38 of a zboot PE",
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
    "arm64/text-offset-implausible": "kexec_add_buffer: no hole of that size",
    "ppc64/raw-head": "elf64_probe: not an ELF file",
    "ppc64/elf-not-elf64": "elf_read_ehdr: EI_CLASS must be ELFCLASS64",
    "ppc64/endian-mismatch": "purgatory stores __run_at_load in the wrong byte order",
    "target/arch-mismatch": "only the running architecture's loaders exist",
    "target/endianness": "image_load: BE flag differs and no mixed-endian support",
    "target/page-size": "image_load: page size not supported by the CPU",
}


def applies(ctx: Context) -> bool:
    return True


def special(ctx: Context):
    if ctx.result.format == "arm64-image" and ctx.layer("elf") is not None:
        yield ("layer/unknown-format", "arm64 kexec_file_load takes an Image, not a vmlinux ELF",
               True)
    if ctx.result.format == "ppc64-head" and ctx.header.get("run_at_load") == 0:
        yield (None, "a crash kernel gets 1 at 0x5c although it is not relocatable", False)
