"""The loaders' x86 half: what each real loader does with an x86 bzImage, by loader.

Each loader module asks this one when the image is an x86 bzImage (``judges``): its
``REJECTS`` takes ``REJECTS[NAME]`` (x86 rule IDs only, so they decide nothing for
another architecture), its ``applies`` and ``special`` hand over to ``applies`` and
``special`` here. What was read, per loader:

- kexec-tools, v2.0.25 and v2.0.32 (the x86 probes are the same in every release
  modelled; ``git diff v2.0.25 v2.0.32`` changes only placement: pref_address as the
  lowest address and init_size as the size, kexec/arch/i386/kexec-bzImage.c):
  kexec/arch/x86_64/kexec-x86_64.c file_type[] tries multiboot2, ELF, multiboot, ELF-x86,
  bzImage64, then bzImage. bzImage64_probe (kexec-bzImage64.c): at least 1024 bytes,
  "HdrS", boot_flag 0xAA55, protocol >= 2.12, LOADED_HIGH, XLF_KERNEL_64 and
  XLF_CAN_BE_LOADED_ABOVE_4G. bzImage_probe (kexec/arch/i386/kexec-bzImage.c): the same
  up to protocol >= 2.00 and LOADED_HIGH; its loader refuses a non-relocatable kernel for
  ``-p``. Both loaders refuse a file shorter than its real-mode part ("BzImage
  truncated?").
- kexec-file (Linux arch/x86/kernel/kexec-bzimage64.c, the only x86-64
  kexec_file_loaders[] entry; read at torvalds/linux 03738dd, newer than 6.1):
  bzImage64_probe makes kexec-tools' checks (1024 bytes, "HdrS", boot_flag, protocol
  2.12, LOADED_HIGH, XLF_KERNEL_64, XLF_CAN_BE_LOADED_ABOVE_4G), with no fallback;
  bzImage64_load refuses a file shorter than its real-mode part. It also refuses a
  kernel without XLF_5LEVEL on a host running 5-level paging (a host fact: a note).
- GRUB (grub-core/loader/i386/linux.c grub_cmd_linux, BIOS and EFI; read in
  rhboot/grub2 012fe7f, whose checks are the long-standing upstream ones): boot_flag 0xAA55
  ("invalid magic number"), setup_sects <= 64, "HdrS" and protocol >= 2.03, LOADED_HIGH;
  a kernel_alignment that is not a power of two makes it non-relocatable. The EFI stub
  is not needed.
- EFI firmware (EDK2 PeCoffLoaderGetPeHeader): "MZ", e_lfanew at "PE\\0\\0", its own
  machine (0x8664 for x86-64 firmware). The setup header is not read.
- QEMU -kernel (hw/i386/x86.c x86_load_linux): "HdrS" gives the protocol (else an old
  zImage); the file must hold (setup_sects + 1) * 512 bytes ('qemu: invalid kernel
  header'); boot_flag and the flags are not checked.
- U-Boot booti: arm64 (and riscv) Images only.
"""

from __future__ import annotations

from validator.loaders import found, per_image

TYPE_CHECKING = False
if TYPE_CHECKING:
    from validator.rules.engine import Context

FORMAT = "x86-bzimage"
NOT_APPLICABLE = {"u-boot": "booti starts arm64 and riscv Images, not an x86 bzImage"}

_TRUNCATED = "x86/truncated-header"
REJECTS = {
    "kexec-tools": {
        _TRUNCATED: "bzImage64_probe, bzImage_probe: 'File is too short to be a bzImage!'",
        "x86/bad-boot-flag": "bzImage64_probe, bzImage_probe: 'No x86 boot sector present'",
        "x86/not-bzimage": "bzImage64_probe, bzImage_probe: 'zImage not a bzImage'",
        "x86/setup-outside-file": "do_bzImage64_load / do_bzImage_load: 'BzImage truncated?'",
    },
    "kexec-file": {
        _TRUNCATED: "bzImage64_probe: 'File is too short to be a bzImage'",
        "x86/bad-boot-flag": "bzImage64_probe: 'No x86 boot sector present'",
        "x86/not-bzimage": "bzImage64_probe: 'zImage not a bzImage'",
        "x86/protocol-too-old": "bzImage64_probe: 'Must be at least protocol version 2.12'",
        "x86/not-bzimage64": "bzImage64_probe: protocol 2.12, XLF_KERNEL_64 and "
                             "XLF_CAN_BE_LOADED_ABOVE_4G are required",
        "x86/setup-outside-file": "bzImage64_load: 'bzImage truncated'",
    },
    "grub": {
        _TRUNCATED: "grub_cmd_linux: 'premature end of file'",
        "x86/bad-boot-flag": "grub_cmd_linux: 'invalid magic number'",
        "x86/too-many-setup-sectors": "grub_cmd_linux: 'too many setup sectors'",
        "x86/protocol-too-old": "grub_cmd_linux: 'version too old for 32-bit boot'",
        "x86/not-bzimage": "grub_cmd_linux: \"zImage doesn't support 32-bit boot\"",
        "x86/setup-outside-file": "grub_cmd_linux: 'premature end of file'",
    },
    "efi": {
        _TRUNCATED: "cannot read the DOS header",
        "x86/no-efi-stub": "no MZ: not a PE image",
        "x86/pe-offset-invalid": "PeCoffLoaderGetPeHeader: e_lfanew does not point at PE\\0\\0",
        "x86/pe-machine": "the firmware starts PE images of its own machine type only",
    },
    "qemu": {
        _TRUNCATED: "x86_load_linux reads the header's 1024 bytes first",
        "x86/setup-outside-file": "x86_load_linux: 'qemu: invalid kernel header'",
    },
    "u-boot": {},
}


@per_image
def judges(ctx: Context) -> bool:
    """True when the image is an x86 bzImage (or one whose header was cut short)."""
    return ctx.result.format == FORMAT or _TRUNCATED in found(ctx)


def applies(name: str, ctx: Context) -> bool:
    return name not in NOT_APPLICABLE


def special(name: str, ctx: Context, version: str):
    """(rule ID or None, note, rejects) beyond the tables, for loader ``name``."""
    h = ctx.header
    if not h:
        return
    if name == "kexec-tools":
        if h["version"] < 0x0200:
            yield ("x86/protocol-too-old", "bzImage_probe: 'Must be at least protocol "
                   "version 2.00'", True)
        elif not (h["version"] >= 0x020C and h["xlf_kernel_64"]
                  and h["xlf_can_be_loaded_above_4g"]):
            yield (None, "bzImage64_probe refuses it: loaded by the 32-bit bzImage loader "
                   "(kexec/arch/i386/kexec-bzImage.c)", False)
            if not h["is_relocatable"]:
                yield (None, "not relocatable: `kexec -p` refuses it ('BzImage is not "
                       "relocatable. Can't be used as capture kernel.')", False)
        else:
            yield (None, f"bzImage64: placed at a multiple of kernel_alignment "
                   f"{h['kernel_alignment']:#x} at or above "
                   f"{max(h['pref_address'], 0x100000):#x}, {h['init_size']:#x} bytes",
                   False)
    elif name == "kexec-file" and h["version"] >= 0x020C and not h["xlf_5level"]:
        yield (None, "no XLF_5LEVEL: bzImage64_probe refuses it on a host running 5-level "
               "paging ('bzImage cannot handle 5-level paging mode')", False)
    elif name == "grub" and not ctx.facts.get("efi_handover"):
        yield (None, "no EFI handover entry: upstream GRUB's linux does not need one; the "
               "distributions' linuxefi patch (grub-core/loader/i386/efi/linux.c) refuses "
               "the kernel (\"kernel doesn't support EFI handover\")", False)
    elif name == "qemu" and not h["loaded_high"]:
        yield (None, "LOADED_HIGH clear: loaded as a zImage at 0x10000", False)
