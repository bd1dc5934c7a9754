"""The rule registry: stable IDs, severities, rationale and references.

A rule ID never changes meaning once released; new behaviour gets a new ID. Each
module that reports findings declares its rules here through ``rule``.
"""

from __future__ import annotations

from dataclasses import dataclass

from validator.model import Finding


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str
    rationale: str
    reference: str
    loaders: tuple[str, ...] = ()


RULES: dict[str, Rule] = {}


def rule(id: str, severity: str, summary: str, rationale: str, reference: str,
         loaders: tuple[str, ...] = ()) -> Rule:
    if id in RULES:
        raise ValueError(f"rule {id} declared twice")
    RULES[id] = r = Rule(id, severity, summary, rationale, reference, loaders)
    return r


def finding(rule_id: str, message: str, offset: int | None = None,
            field: str | None = None) -> Finding:
    r = RULES[rule_id]
    return Finding(r.id, r.severity, message, offset, field, list(r.loaders))


ALL_LOADERS = ("kexec-tools", "kexec-file", "u-boot", "grub", "efi")

rule("layer/unknown-format", "error",
     "no kernel image header was found",
     "Neither an arm64 Image header (magic ARM\\x64 at 0x38), a ppc64 head (FIXUP_ENDIAN or "
     "a branch and a trap at 0), nor an ELF vmlinux for either architecture was found, so no "
     "loader kimage knows would accept the file as a kernel.",
     "shared/reference/arm64.md section 6; shared/reference/ppc64.md section 1",
     ALL_LOADERS)
rule("elf/malformed", "error",
     "the ELF headers cannot be read",
     "kexec-tools and kexec_file_load parse the ELF and program headers before anything else; "
     "a file whose headers are cut short or inconsistent is refused.",
     "Linux 6.1 kernel/kexec_elf.c elf_read_ehdr; kexec-tools kexec/kexec-elf.c",
     ("kexec-tools", "kexec-file"))
rule("elf/no-load-segment", "error",
     "the ELF file has no PT_LOAD segment",
     "Loaders place PT_LOAD segments and take the kernel head from the first one; without "
     "one there is nothing to load.",
     "Linux 6.1 arch/powerpc/kexec/elf_64.c; kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c",
     ("kexec-tools", "kexec-file"))
rule("elf/truncated", "error",
     "the first PT_LOAD extends past the end of the file",
     "A loader copies p_filesz bytes from p_offset; a file that ends early was cut short "
     "in transfer or by a broken build step.",
     "ELF gABI, program header p_offset/p_filesz",
     ("kexec-tools", "kexec-file"))
rule("elf/unsupported-machine", "error",
     "the ELF file is for an architecture kimage does not describe",
     "kimage describes arm64 (EM_AARCH64) and ppc64 (EM_PPC64) kernels; another e_machine "
     "is no kernel of either.",
     "ELF gABI e_machine",
     ALL_LOADERS)
rule("arm64/truncated-header", "error",
     "the arm64 Image header is shorter than 64 bytes",
     "kexec_file_load's probe requires at least 64 bytes before it compares the magic; "
     "kexec-tools and U-Boot read all 64.",
     "Linux 6.1 arch/arm64/kernel/kexec_image.c image_probe; booting.rst 'Image header'",
     ("kexec-tools", "kexec-file", "u-boot"))
rule("ppc64/head-truncated", "error",
     "the ppc64 head is shorter than 256 bytes",
     "kexec-tools and kexec_file_load copy the first 256 bytes of the first PT_LOAD into "
     "purgatory; the kernel copies them to physical 0.",
     "kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c; Linux 6.1 arch/powerpc/kexec/file_load_64.c",
     ("kexec-tools", "kexec-file"))
rule("ppc64/head-unrecognised", "error",
     "the ppc64 ELF's first PT_LOAD does not start with a kernel head",
     "A ppc64 kernel starts with FIXUP_ENDIAN (Book3S since about 3.13) or a branch to the "
     "start-up code followed by a trap; anything else is not a kernel the loaders can start "
     "at offset 0 with secondaries held at 0x60.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S first_256B",
     ("kexec-tools", "kexec-file"))
