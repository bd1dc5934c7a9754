"""RISC-V Image rules: what the header alone says a loader will do with it (its .config
and System.map: validator/rules/riscv_build.py).

Loader facts: kexec-tools v2.0.32 kexec/arch/riscv/image-header.h and
kexec-image-riscv.c (the first release with a riscv port); Linux 6.16
arch/riscv/kernel/kexec_image.c (809a11eea8e8, the first kexec_file Image loader on
riscv); U-Boot arch/riscv/lib/image.c booti_setup (read at u-boot/u-boot 098407e);
GRUB 2.12 grub-core/loader/efi/linux.c grub_arch_efi_linux_load_image_header; EDK2
PeCoffLoaderGetPeHeader.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.riscv64_image import FORMAT as _FORMAT
from validator.formats.riscv64_image import PE_MACHINE_RISCV64, VERSION_0_2, version_text
from validator.rules.engine import Context, check

FORMAT = (_FORMAT,)
#: as validator/loaders/kexec_file.py IMPLAUSIBLE: no hole of 1 GiB in a machine worth modelling
IMPLAUSIBLE = 1 << 30

rule("riscv64/image-size-zero", "error",
     "image_size is 0",
     "kexec-tools' image_riscv_load ('Kernel image size is NULL'), kexec_file_load's "
     "image_load (-EINVAL) and U-Boot booti ('Image lacks image_size field, error!') refuse "
     "an Image without its size; every kernel with header version 0.1 or later writes it.",
     "kexec-tools v2.0.32 kexec/arch/riscv/kexec-image-riscv.c image_riscv_load; Linux 6.16 "
     "arch/riscv/kernel/kexec_image.c image_load; U-Boot arch/riscv/lib/image.c booti_setup",
     ("kexec-tools", "kexec-file", "u-boot"))
rule("riscv64/image-size-implausible", "error",
     "image_size is 1 GiB or more",
     "kexec-tools' riscv_find_pbase looks for a RAM range of image_size bytes and refuses "
     "the Image without one ('Could not find a memory region for the provided Image'); "
     "kexec_file_load's kexec_add_buffer finds no hole of that size. No kernel is that "
     "large (Debian's 6.12 riscv64 Image: 30.5 MiB). U-Boot booti moves that many bytes to "
     "the start of RAM and runs over itself.",
     "kexec-tools v2.0.32 kexec/arch/riscv/kexec-riscv.c riscv_find_pbase; Linux 6.16 "
     "arch/riscv/kernel/kexec_image.c image_load; loader-truth runs "
     "(loadertruth/kexec_riscv.py and uboot_riscv.py, variant image-size-4g)",
     ("kexec-tools", "kexec-file", "u-boot"))
rule("riscv64/big-endian", "error",
     "flags bit 0 says the kernel is big-endian",
     "Linux has no big-endian RISC-V kernel: kexec-tools' image_riscv_load refuses the "
     "image ('Kernel image was built as big endian') and kexec_file_load's image_load "
     "refuses an Image whose byte order differs from the running kernel's.",
     "Linux Documentation/arch/riscv/boot-image-header.rst (flags); kexec-tools v2.0.32 "
     "kexec/arch/riscv/kexec-image-riscv.c image_riscv_load; Linux 6.16 "
     "arch/riscv/kernel/kexec_image.c image_load",
     ("kexec-tools", "kexec-file"))
rule("riscv64/version-too-old", "error",
     "the header version is older than 0.2",
     "kexec-tools' riscv_header_check_magic wants version >= 0.2 as well as magic2, so its "
     "Image probe refuses the file; kexec_file_load's image_probe then skips the magic2 "
     "test. Header version 0.2 is Linux 5.5's.",
     "kexec-tools v2.0.32 kexec/arch/riscv/image-header.h riscv_header_check_magic; Linux "
     "6.16 arch/riscv/kernel/kexec_image.c image_probe",
     ("kexec-tools",))
rule("riscv64/text-offset-not-power-of-two", "warning",
     "text_offset is not a power of two",
     "kexec-tools (riscv_find_pbase: _ALIGN_UP(start, text_offset)) and kexec_file_load "
     "(kbuf.buf_align = text_offset) use text_offset as the alignment of the load address; "
     "their rounding is correct only for a power of two (0 makes kexec-tools choose "
     "address 0). head.S writes 2 MiB (RV64) or 4 MiB (RV32).",
     "kexec-tools v2.0.32 kexec/arch/riscv/kexec-riscv.c riscv_find_pbase; Linux 6.16 "
     "arch/riscv/kernel/kexec_image.c image_load; Linux arch/riscv/kernel/head.S",
     ())
rule("riscv64/image-size-smaller-than-file", "warning",
     "the file holds more bytes than image_size says the kernel occupies",
     "kexec_file_load places the file in a segment of image_size bytes and "
     "sanity_check_segment_list refuses a buffer larger than its segment (-EINVAL); "
     "kexec-tools cuts the bytes beyond image_size.",
     "Linux 6.16 arch/riscv/kernel/kexec_image.c image_load; kernel/kexec_core.c "
     "sanity_check_segment_list",
     ("kexec-file",))
rule("riscv64/no-efi-stub", "info",
     "code0 has no \"MZ\": the Image has no EFI stub",
     "UEFI firmware and GRUB 2.12 ('plain image kernel not supported - rebuild with "
     "CONFIG_(U)EFI_STUB enabled') start only an EFI-stub kernel; kexec and U-Boot booti "
     "do not care.",
     "GRUB 2.12 grub-core/loader/efi/linux.c grub_arch_efi_linux_load_image_header; EDK2 "
     "PeCoffLoaderGetPeHeader",
     ("grub", "efi"))
rule("riscv64/pe-offset-invalid", "warning",
     "code0 says \"MZ\" but pe_offset (0x3c) does not point at \"PE\\0\\0\"",
     "UEFI firmware and GRUB 2.12 read the PE header at e_lfanew and refuse the image "
     "without it.",
     "Linux arch/riscv/kernel/efi-header.S; EDK2 PeCoffLoaderGetPeHeader; GRUB 2.12 "
     "grub-core/loader/efi/linux.c",
     ("grub", "efi"))
rule("riscv64/pe-machine", "warning",
     "the EFI stub's PE header is not for riscv64 (Machine is not 0x5064)",
     "efi-header.S writes IMAGE_FILE_MACHINE_RISCV64 for a 64-bit kernel; firmware starts "
     "only its own machine type.",
     "Linux arch/riscv/kernel/efi-header.S; PE/COFF IMAGE_FILE_MACHINE_RISCV64",
     ("grub", "efi"))
rule("riscv64/old-magic-missing", "info",
     "the deprecated magic \"RISCV\\0\\0\\0\" is not at 0x30",
     "Header version 0.2 deprecated it in favour of magic2 and no loader modelled reads it; "
     "every kernel since 5.0 still writes it, so its absence says the header was not made "
     "by the kernel's head.S.",
     "Linux Documentation/arch/riscv/boot-image-header.rst; arch/riscv/kernel/head.S",
     ())


@check(formats=FORMAT)
def header(ctx: Context):
    h, facts = ctx.header, ctx.facts
    if h["image_size"] == 0:
        yield finding("riscv64/image-size-zero", "image_size is 0", offset=0x10,
                      field="image_size")
    if h["image_size"] >= IMPLAUSIBLE:
        yield finding("riscv64/image-size-implausible", f"image_size {h['image_size']:#x}",
                      offset=0x10, field="image_size")
    if h["is_big_endian"]:
        yield finding("riscv64/big-endian", f"flags {h['flags']:#x}: bit 0 is set",
                      offset=0x18, field="flags")
    if h["version"]["raw"] < VERSION_0_2:
        yield finding("riscv64/version-too-old", f"header version "
                      f"{version_text(h['version']['raw'])}", offset=0x20, field="version")
    offset = h["text_offset"]
    if offset == 0 or offset & (offset - 1):
        yield finding("riscv64/text-offset-not-power-of-two", f"text_offset {offset:#x}",
                      offset=0x08, field="text_offset")
    payload = ctx.loaded_size()
    if ctx.layer("elf") is None and payload is not None and h["image_size"] \
            and payload > h["image_size"]:
        yield finding("riscv64/image-size-smaller-than-file",
                      f"the image is {payload:#x} bytes but image_size is "
                      f"{h['image_size']:#x}", offset=0x10, field="image_size")
    if not h["has_magic"]:
        yield finding("riscv64/old-magic-missing", f"0x30 holds {h['magic']!r}",
                      offset=0x30, field="magic")
    yield from _efi_stub(ctx, facts)


def _efi_stub(ctx: Context, facts: dict):
    if ctx.layer("elf") is not None:
        return  # a vmlinux: elf/riscv64-vmlinux says what boots it
    if not facts["efi_stub"]:
        yield finding("riscv64/no-efi-stub", f"code0 is {ctx.header['code0']:#010x}",
                      offset=0, field="code0")
        return
    pe = ctx.result.derived.get("pe") or {}
    if not pe.get("signature_ok"):
        yield finding("riscv64/pe-offset-invalid", f"pe_offset {ctx.header['pe_offset']:#x} "
                      f"holds {pe.get('signature') or 'nothing'}", offset=0x3C,
                      field="pe_offset")
        return
    if pe.get("machine") != PE_MACHINE_RISCV64:
        yield finding("riscv64/pe-machine", f"PE Machine {pe.get('machine', 0):#06x}, not "
                      f"{PE_MACHINE_RISCV64:#06x}", offset=ctx.header["pe_offset"] + 4)


rule("elf/riscv64-vmlinux", "info",
     "a riscv vmlinux ELF: kexec loads it, the boot loaders take the Image",
     "The build's vmlinux is an ELF; what boots is arch/riscv/boot/Image. kexec-tools' "
     "elf-riscv (2.0.32 and later) and kexec_file_load's elf_kexec_ops (5.19 and later) load "
     "the ELF; U-Boot booti (no RSC\\x05 at 0x38), GRUB and UEFI firmware (not a PE "
     "application) do not.",
     "kexec-tools v2.0.32 kexec/arch/riscv/kexec-elf-riscv.c; Linux 6.12 "
     "arch/riscv/kernel/elf_kexec.c and machine_kexec_file.c kexec_file_loaders",
     ("u-boot", "grub", "efi"))


@check(formats=FORMAT)
def riscv64_vmlinux(ctx: Context):
    elf = ctx.layer("elf")
    if elf is not None:
        yield finding("elf/riscv64-vmlinux", f"an ELF vmlinux ({elf.get('machine')}, "
                      f"{elf.get('type')}), not the Image a boot loader takes")
