"""ppc64 head rules: the 256 bytes loaders copy, and the ELF they come in.

Facts and loader behaviour: shared/reference/ppc64.md sections 1-5 (head_64.S in 2.6.24,
2.6.32, 3.10 and 6.1; kexec-tools kexec/arch/ppc64 and purgatory; Linux 6.1
arch/powerpc/kexec/file_load_64.c).
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats import ppc64_head as spec
from validator.rules.engine import Context, check

FORMAT = (spec.FORMAT,)

rule("ppc64/run-at-load-unknown", "warning",
     "__run_at_load holds neither \"run0\", 1 nor 0",
     "The kernel compares the word at 0x5c with 1 and relocates to 0 for any other value; "
     "kexec-tools turns only \"run0\" into 1 for a panic kernel. With any other value a kdump "
     "kernel loaded by kexec-tools relocates over the crashed kernel at 0.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S __after_prom_start; kexec-tools "
     "kexec/arch/ppc64/kexec-elf-ppc64.c",
     ("kexec-tools",))
rule("ppc64/run-at-load-preset", "info",
     "__run_at_load is already 1 in the file",
     "1 makes the kernel run where it was loaded on every boot: a CONFIG_RELOCATABLE_TEST "
     "build, or an image a loader has patched.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S __run_at_load; measured on a RELOCATABLE_TEST build",
     ())
rule("ppc64/not-relocatable", "info",
     "the kernel is not relocatable (no __run_at_load)",
     "Without CONFIG_RELOCATABLE the kernel always runs at 0, so it cannot serve as a kdump "
     "capture kernel in a crashkernel region; kexec_file_load writes 1 at 0x5c anyway.",
     "Linux 6.1 arch/powerpc/Kconfig (CRASH_DUMP selects RELOCATABLE); Linux 6.1 "
     "arch/powerpc/kexec/file_load_64.c (writes 1 at __run_at_load)",
     ("kexec-tools", "kexec-file"))
rule("ppc64/endian-mismatch", "error",
     "the head's byte order contradicts the ELF's",
     "The head's FIXUP_ENDIAN (or its absence) says which byte order the kernel runs in; an "
     "ELF whose EI_DATA says the other would make kexec-tools and purgatory read and write "
     "__run_at_load in the wrong order, and the kernel would not start.",
     "Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN; ELF gABI EI_DATA",
     ("kexec-tools", "kexec-file"))
rule("ppc64/legacy-layout", "info",
     "the head has no FIXUP_ENDIAN: a kernel up to 3.12, or Book3E",
     "Book3S kernels since about 3.13 start with FIXUP_ENDIAN; a plain branch at 0 is an "
     "older kernel or a Book3E (e5500/e6500) one. Book3E kernels before about 4.1 do not honour "
     "__run_at_load.",
     "Linux arch/powerpc/kernel/head_64.S (v2.6.27, v3.13: FIXUP_ENDIAN, v6.1) and "
     "head_fsl_booke / exceptions-64e.S (Book3E)",
     ())
rule("ppc64/iseries-pointer", "info",
     "the legacy iSeries pointer at 0x20 is set",
     "Only CONFIG_PPC_ISERIES kernels (removed about 3.4) store hvReleaseData's address here.",
     "Linux 2.6.24 arch/powerpc/kernel/head_64.S",
     ())
rule("ppc64/kdump-flag-set", "info",
     "the 2.6.27 __kdump_flag at 0x18 is set in the file",
     "2.6.27's kdump purgatory stored 1 here at load time; a file that already has it is a "
     "2.6.27 kernel captured after loading, or not a plain-branch kernel at all.",
     "Linux commit 54622f10a6aa; kexec-tools commit d9c5b2d",
     ())
rule("ppc64/secondary-entry", "warning",
     "the secondary-CPU entry at 0x60 does not start with FIXUP_ENDIAN",
     "Book3S kernels with FIXUP_ENDIAN at 0 start __secondary_hold at 0x60 with it too, since "
     "secondaries are released there in the firmware's byte order.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S __secondary_hold",
     ("kexec-tools", "kexec-file"))
rule("ppc64/spinloop-set", "warning",
     "__secondary_hold_spinloop is not zero in the file",
     "Secondary CPUs wait at 0x60 until the master writes a non-zero value here; a non-zero "
     "value in the image releases them before the kernel is ready.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S __secondary_hold",
     ("kexec-tools", "kexec-file"))
rule("ppc64/raw-head", "info",
     "a bare head, not a vmlinux: kexec loaders need the ELF",
     "kexec-tools (elf-ppc64) and kexec_file_load load ppc64 kernels only as ELF files.",
     "kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c; Linux 6.1 arch/powerpc/kexec/elf_64.c",
     ("kexec-tools", "kexec-file"))
rule("ppc64/elf-not-elf64", "error",
     "the ppc64 ELF is not ELFCLASS64",
     "kexec_file_load requires ELFCLASS64 and EM_PPC64 for a ppc64 kernel.",
     "Linux 6.1 kernel/kexec_elf.c elf_read_ehdr; arch/powerpc/kexec/elf_64.c",
     ("kexec-file",))


@check(formats=FORMAT)
def run_at_load(ctx: Context):
    value = ctx.header["run_at_load"]
    if value == 1:
        yield finding("ppc64/run-at-load-preset", "the word at 0x5c is 1", offset=0x5C,
                      field="run_at_load")
    elif value == 0:
        yield finding("ppc64/not-relocatable", "the word at 0x5c is 0", offset=0x5C,
                      field="run_at_load")
    elif value != spec.RUN0:
        yield finding("ppc64/run-at-load-unknown", f"the word at 0x5c is {value:#010x}",
                      offset=0x5C, field="run_at_load")


@check(formats=FORMAT)
def byte_order(ctx: Context):
    elf = ctx.layer("elf")
    if elf is None:
        yield finding("ppc64/raw-head", "the file is the head alone, without its ELF")
        return
    if elf.get("class") != 64:
        yield finding("ppc64/elf-not-elf64", f"ELF class {elf.get('class')}")
    head = "little" if ctx.header["is_le"] else "big"
    if elf.get("endianness") != head:
        how = "FIXUP_ENDIAN" if ctx.header["has_fixup_endian"] else "a plain branch"
        yield finding("ppc64/endian-mismatch",
                      f"the head ({how}) is {head}-endian, the ELF is "
                      f"{elf.get('endianness')}-endian", offset=0)


@check(formats=FORMAT)
def layout(ctx: Context):
    h = ctx.header
    if h["layout"] == "plain_branch":
        yield finding("ppc64/legacy-layout", "main branch at 0, no FIXUP_ENDIAN", offset=0)
        if h["iseries_pointer"]:
            yield finding("ppc64/iseries-pointer", f"0x20 holds {h['iseries_pointer']:#x}",
                          offset=0x20, field="iseries_pointer")
        if h["kdump_flag"]:
            yield finding("ppc64/kdump-flag-set", f"0x18 holds {h['kdump_flag']:#x}",
                          offset=0x18, field="kdump_flag")
    elif h["secondary_entry"] != spec.TDI_FIXUP:
        yield finding("ppc64/secondary-entry",
                      f"0x60 holds {h['secondary_entry']:#010x}, not tdi 0,0,0x48",
                      offset=0x60, field="secondary_entry")
    if h["secondary_hold_spinloop"]:
        yield finding("ppc64/spinloop-set",
                      f"__secondary_hold_spinloop is {h['secondary_hold_spinloop']:#x}",
                      offset=h["main_branch_offset"] + 8, field="secondary_hold_spinloop")
