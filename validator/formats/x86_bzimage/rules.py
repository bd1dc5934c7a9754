"""x86 bzImage rules: what the setup header alone says a loader will do with it (its
.config and System.map: validator/rules/x86_build.py).

Loader facts: kexec-tools v2.0.25 and v2.0.32 kexec/arch/x86_64/kexec-bzImage64.c and
kexec/arch/i386/kexec-bzImage.c (the same probes in both); Linux 6.1
arch/x86/kernel/kexec-bzimage64.c; GRUB grub-core/loader/i386/linux.c grub_cmd_linux;
QEMU hw/i386/x86.c x86_load_linux.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.x86_bzimage import FORMAT as _FORMAT
from validator.formats.x86_bzimage import PE_MACHINE_I386, PE_MACHINE_X86_64, protocol
from validator.rules.engine import Context, check

FORMAT = (_FORMAT,)

rule("x86/not-bzimage", "error",
     "loadflags has no LOADED_HIGH: a zImage, not a bzImage",
     "A zImage's protected-mode code runs at 0x10000; kexec-tools' bzImage and bzImage64 "
     "probes and kexec_file_load ('zImage not a bzImage') and GRUB's linux command "
     "(\"zImage doesn't support 32-bit boot\") refuse it. QEMU -kernel loads it low.",
     "boot.rst 'Field name: loadflags'; kexec-tools v2.0.32 kexec/arch/i386/kexec-bzImage.c "
     "bzImage_probe; Linux 6.1 arch/x86/kernel/kexec-bzimage64.c bzImage64_probe; GRUB "
     "grub-core/loader/i386/linux.c grub_cmd_linux",
     ("kexec-tools", "kexec-file", "grub"))
rule("x86/protocol-too-old", "error",
     "boot protocol older than 2.03",
     "GRUB's linux command refuses a protocol before 2.03 (\"version too old for 32-bit "
     "boot\"), kexec-tools' bzImage probe one before 2.00, kexec_file_load one before 2.12.",
     "GRUB grub-core/loader/i386/linux.c grub_cmd_linux; kexec-tools v2.0.32 "
     "kexec/arch/i386/kexec-bzImage.c bzImage_probe",
     ("grub", "kexec-tools", "kexec-file"))
rule("x86/not-bzimage64", "warning",
     "not a bzImage64: protocol before 2.12, or XLF_KERNEL_64 or "
     "XLF_CAN_BE_LOADED_ABOVE_4G clear",
     "kexec_file_load's bzImage64_probe and kexec-tools' bzImage64_probe need protocol 2.12, "
     "XLF_KERNEL_64 and XLF_CAN_BE_LOADED_ABOVE_4G. kexec_file_load has no other x86-64 "
     "loader and refuses the image; kexec-tools falls back to its 32-bit bzImage loader, "
     "which enters the kernel in protected mode below 4 GiB.",
     "Linux 6.1 arch/x86/kernel/kexec-bzimage64.c bzImage64_probe; kexec-tools v2.0.25 and "
     "v2.0.32 kexec/arch/x86_64/kexec-bzImage64.c bzImage64_probe and kexec-x86_64.c "
     "file_type[]",
     ("kexec-file",))
rule("x86/not-relocatable", "warning",
     "relocatable_kernel is 0 (or the protocol predates it): the kernel runs only at its "
     "link address",
     "A kdump kernel must run inside the crash region, away from the crashed kernel: "
     "kexec-tools' bzImage loader refuses a non-relocatable kernel for `kexec -p` "
     "(\"BzImage is not relocatable. Can't be used as capture kernel.\"); other loads put "
     "it at 0x100000.",
     "kexec-tools v2.0.32 kexec/arch/i386/kexec-bzImage.c do_bzImage_load; boot.rst "
     "'Field name: relocatable_kernel'",
     ("kexec-tools",))
rule("x86/kernel-alignment-invalid", "warning",
     "kernel_alignment is not a power of two",
     "A relocatable kernel is placed at a multiple of kernel_alignment; GRUB then treats "
     "the kernel as not relocatable and kexec's allocators are asked for an alignment they "
     "cannot honour.",
     "GRUB grub-core/loader/i386/linux.c grub_cmd_linux; boot.rst 'Field name: "
     "kernel_alignment'",
     ("grub",))
rule("x86/setup-outside-file", "error",
     "setup_sects puts the protected-mode kernel beyond the end of the file",
     "Every loader copies (setup_sects + 1) * 512 bytes of real-mode code first: QEMU exits "
     "('qemu: invalid kernel header'), kexec-tools ('BzImage truncated?') and "
     "kexec_file_load ('bzImage truncated') refuse the file.",
     "QEMU hw/i386/x86.c x86_load_linux; kexec-tools v2.0.32 kexec/arch/x86_64/"
     "kexec-bzImage64.c do_bzImage64_load; Linux 6.1 arch/x86/kernel/kexec-bzimage64.c "
     "bzImage64_load",
     ("kexec-tools", "kexec-file", "qemu", "grub"))
rule("x86/too-many-setup-sectors", "error",
     "setup_sects is above 64",
     "GRUB's linux command refuses more than 64 setup sectors (\"too many setup sectors\").",
     "GRUB grub-core/loader/i386/linux.c grub_cmd_linux (GRUB_LINUX_MAX_SETUP_SECTS)",
     ("grub",))
rule("x86/no-efi-stub", "info",
     "no \"MZ\" at 0: the bzImage has no EFI stub",
     "UEFI firmware and systemd-boot start only PE images; GRUB, kexec and QEMU -kernel "
     "use the boot protocol and do not care.",
     "Linux arch/x86/boot/header.S (\"MZ\" under CONFIG_EFI_STUB); EDK2 "
     "PeCoffLoaderGetPeHeader",
     ("efi",))
rule("x86/pe-offset-invalid", "warning",
     "\"MZ\" at 0 but e_lfanew (0x3c) does not point at \"PE\\0\\0\"",
     "UEFI firmware reads the PE header at e_lfanew and refuses the image without it.",
     "Linux arch/x86/boot/header.S pe_header; EDK2 PeCoffLoaderGetPeHeader",
     ("efi",))
rule("x86/pe-machine", "warning",
     "the EFI stub's PE header is for another machine than the kernel",
     "header.S writes Machine 0x8664 for a 64-bit kernel and 0x14c for a 32-bit one; "
     "firmware starts only its own machine type.",
     "Linux arch/x86/boot/header.S coff_header; PE/COFF IMAGE_FILE_MACHINE_AMD64",
     ("efi",))
@check(formats=FORMAT)
def header(ctx: Context):
    h, facts = ctx.header, ctx.facts
    version = h["version"]
    if not h["loaded_high"]:
        yield finding("x86/not-bzimage", f"loadflags {h['loadflags']:#04x}: LOADED_HIGH "
                      "is clear", offset=0x211, field="loadflags")
    if version < 0x0203:
        yield finding("x86/protocol-too-old", f"boot protocol {protocol(version)}",
                      offset=0x206, field="version")
    if not (version >= 0x020C and h["xlf_kernel_64"] and h["xlf_can_be_loaded_above_4g"]):
        yield finding("x86/not-bzimage64", _why_not_64(h), offset=0x236 if version >= 0x020C
                      else 0x206, field="xloadflags" if version >= 0x020C else "version")
    if not h["is_relocatable"]:
        yield finding("x86/not-relocatable",
                      "relocatable_kernel is 0" if version >= 0x0205 else
                      f"protocol {protocol(version)} has no relocatable_kernel (2.05)",
                      offset=0x234 if version >= 0x0205 else 0x206,
                      field="relocatable_kernel" if version >= 0x0205 else "version")
    align = h.get("kernel_alignment")
    if h["is_relocatable"] and align is not None and (align == 0 or align & (align - 1)):
        yield finding("x86/kernel-alignment-invalid", f"kernel_alignment {align:#x}",
                      offset=0x230, field="kernel_alignment")
    if h["setup_sects"] > 64:
        yield finding("x86/too-many-setup-sectors", f"setup_sects {h['setup_sects']}",
                      offset=0x1F1, field="setup_sects")
    size = ctx.result.payload_size or ctx.result.file_size
    if size is not None and h["setup_size"] > size:
        yield finding("x86/setup-outside-file", f"the real-mode part ends at "
                      f"{h['setup_size']:#x}, the file at {size:#x}", offset=0x1F1,
                      field="setup_sects")
    yield from _efi_stub(ctx, facts)


def _why_not_64(h) -> str:
    if h["version"] < 0x020C:
        return f"boot protocol {protocol(h['version'])}, before 2.12 (no xloadflags)"
    missing = [name for name, key in (("XLF_KERNEL_64", "xlf_kernel_64"),
                                      ("XLF_CAN_BE_LOADED_ABOVE_4G",
                                       "xlf_can_be_loaded_above_4g")) if not h[key]]
    return f"xloadflags {h['xloadflags']:#06x}: {' and '.join(missing)} clear"


def _efi_stub(ctx: Context, facts: dict):
    if not facts["efi_stub"]:
        yield finding("x86/no-efi-stub", f"the file starts with {ctx.header['dos_magic']:#06x}"
                      ", not \"MZ\"", offset=0, field="dos_magic")
        return
    pe = ctx.result.derived.get("pe") or {}
    if not pe.get("signature_ok"):
        yield finding("x86/pe-offset-invalid", f"e_lfanew {ctx.header['pe_offset']:#x} "
                      f"holds {pe.get('signature') or 'nothing'}", offset=0x3C,
                      field="pe_offset")
        return
    want = PE_MACHINE_X86_64 if facts["kernel_64"] else PE_MACHINE_I386
    if pe.get("machine") != want:
        yield finding("x86/pe-machine", f"PE Machine {pe.get('machine', 0):#06x}, the "
                      f"kernel is {facts['arch']} ({want:#06x})",
                      offset=ctx.header["pe_offset"] + 4)
