"""kexec-tools (userspace ``kexec -l`` / ``-p``, the kexec_load path).

arm64: probes vmlinux ELF, Image (magic only), uImage and, from 2.0.27, zboot
(kexec/arch/arm64/kexec-arm64.c ``file_type[]``); undoes gzip, xz/lzma and zstd itself;
the Image's endianness, page size and placement bits are never read; image_size 0 means
text_offset 0x80000 and 16 MiB. ppc64: only ELF (elf-ppc64), EM_PPC64 or EM_PPC; the head
is not checked, "run0" becomes 1 for a panic kernel. Versions: horms/kexec-tools up to
29898e1 (2026), loader-truth runs of 2.0.25 (shared/reference/arm64.md section 5).
Seen in 2.0.25 and not modelled (loadertruth.compare.EXPLAINED): no zboot probe (2.0.27
added it; kimage models the newer kexec-tools); ``-p`` does not range-check text_offset
and places a wrapping value below the crash region; whether ``-p`` fits the kernel into
the host's crash region is ``kimage preflight``'s question, not ``check``'s.
"""

from __future__ import annotations

from validator.rules.engine import Context

NAME = "kexec-tools"
VERSIONS = "kexec-tools 2.0.25 (run) to 29898e1 (read)"

REJECTS = {
    "uimage/bad-header-crc": "uImage_probe: 'Header checksum of the uImage does not match' "
                             "(checked when built with zlib, as distributions build it)",
    "uimage/bad-data-crc": "uImage_probe: 'The data CRC does not match' (checked when "
                           "built with zlib, as distributions build it)",
    "layer/unknown-format": "no probe in file_type[] accepts the file",
    "arm64/bad-magic": "image_arm64_probe: arm64_header_check_magic",
    "arm64/truncated-header": "image_arm64_probe: file shorter than the header",
    "arm64/text-offset-unaligned": "kexec.c add_segment: base address not page aligned",
    "elf/malformed": "kexec-elf.c build_elf_info",
    "elf/no-load-segment": "no PT_LOAD to place",
    "elf/truncated": "PT_LOAD past the end of the file",
    "arm64/image-size-implausible": "locate_hole: 'Could not find a free area of memory'",
    "arm64/text-offset-implausible": "locate_hole: 'Could not find a free area of memory'",
    "layer/zboot-no-pe": "pez_arm64_probe: no PE header",
    "zboot/payload-outside-file": "pez_arm64_probe: payload past the end of the file",
    "zboot/unknown-compression": "pez_arm64_probe: compression type not supported",
    "ppc64/raw-head": "elf_ppc64_probe: not an ELF file",
    "ppc64/endian-mismatch": "purgatory stores __run_at_load in the wrong byte order",
    "target/arch-mismatch": "probes are compiled per architecture",
}

#: Compression kexec-tools undoes before probing (kexec.c slurp_decompress_file).
DECOMPRESSES = {"gzip", "xz", "lzma", "zstd"}
#: zboot methods pez_arm64_probe takes: the first four bytes of the name.
ZBOOT_METHODS = ("gzip", "zstd", "lzma")


def applies(ctx: Context) -> bool:
    return True


#: e_machine values the ppc64 and arm64 builds' ELF probes take (elf_ppc64_probe takes
#: EM_PPC too); e_type values build_elf_exec_info takes.
ELF_MACHINES = {"EM_PPC64", "EM_PPC", "EM_AARCH64"}
ELF_TYPES = {"ET_EXEC", "ET_DYN", "ET_CORE"}


def special(ctx: Context):
    elf = ctx.layer("elf")
    if elf is not None:
        if elf.get("machine") not in ELF_MACHINES:
            yield ("elf/unsupported-machine", "no ELF probe takes this e_machine", True)
        if elf.get("type") not in ELF_TYPES:
            yield ("elf/type", "build_elf_exec_info takes ET_EXEC, ET_DYN and ET_CORE", True)
        elif elf.get("machine") == "EM_PPC" and ctx.result.format == "unknown":
            yield (None, "elf_ppc64_probe takes EM_PPC and loads it as a ppc64 kernel", False)
    compression = ctx.facts.get("compression")
    zboot = ctx.layer("zboot")
    if zboot is not None:
        method = str(zboot.get("compression") or "")
        if not zboot.get("kexec_tools_accepts_name", method.startswith(ZBOOT_METHODS)):
            yield ("layer/zboot", f"zboot payload {method!r}: pez_arm64_probe takes only "
                   "gzip, zstd and lzma", True)
        else:
            yield (None, "zboot needs kexec-tools 2.0.27 or later", False)
    elif compression and compression not in DECOMPRESSES:
        yield ("layer/compressed", f"kexec-tools does not undo {compression}", True)
    if ctx.header.get("image_size") == 0:
        yield (None, "image_size 0: assumes text_offset 0x80000 and 16 MiB", False)
    if ctx.result.format == "ppc64-head" and ctx.header.get("run_at_load") == 0x72756E30:
        yield (None, '"run0" is written as 1 for a panic kernel (kexec -p)', False)
