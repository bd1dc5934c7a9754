"""The loaders' RISC-V half: what each real loader does with a riscv64 Image (or a riscv
vmlinux), by loader and release.

Each loader module asks this one when the kernel is a riscv64 one (``judges``): its
``REJECTS`` takes ``REJECTS[NAME]`` (riscv64 rule IDs only, so they decide nothing for
another architecture), its ``applies`` and ``special`` hand over to ``applies`` and
``special`` here. What was read, per loader:

- kexec-tools (horms/kexec-tools): kexec/arch/riscv is first released in v2.0.32
  (15d78e5): b3fd54b "Add support for riscv kexec/kdump" (the ELF loader, elf-riscv:
  e_machine EM_RISCV), 027e6e2 (kexec_file_load), b257f31 "Support loading Image binary
  file" (image-riscv). file_type[] tries elf-riscv, then image-riscv. image_riscv_probe:
  at least 64 bytes, riscv_header_check_magic (version >= 0.2 and magic2 "RSC\\x05"; the
  deprecated "RISCV" magic is not read); image_riscv_load (kexec_load path): image_size
  != 0, flags bit 0 clear, then riscv_find_pbase aligns the base to text_offset. Through
  kexec_file_load (``-s``, and plain ``-l`` first from 2.0.27) the file goes to the
  kernel. After 2.0.32 (unreleased, 771e89d): a zboot ("vmlinuz-riscv") probe, not
  modelled. Releases 2.0.25 to 2.0.31 have no riscv port: they do not build for riscv64.
- kexec-file (Linux arch/riscv/kernel/machine_kexec_file.c kexec_file_loaders[]): 5.19
  to 6.15 hold only elf_kexec_ops (a riscv vmlinux ELF; an Image is refused, -ENOEXEC);
  6.16 adds image_kexec_ops (809a11eea8e8, merged 9bcadc02cb35 for 6.16): image_probe
  needs 64 bytes and, for a header version >= 0.2, magic2; image_load needs image_size
  != 0 and flags bit 0 equal to the running kernel's (never big-endian); the segment is
  image_size bytes aligned to text_offset, and must hold the file.
- U-Boot booti (arch/riscv/lib/image.c booti_setup, read at u-boot/u-boot 098407e):
  magic2 at 0x38 ("Bad Linux RISCV Image magic!"), image_size != 0 ("Image lacks
  image_size field, error!"); the image is moved to the start of RAM + text_offset (an
  image_size of 4 GiB moves it over U-Boot: a crash). The header is read from memory, so
  a file cut inside the header is started. The compressed-kernel handling is
  boot/image.c's, the same as on arm64. Run: Debian 12's 2023.01 and Debian 13's 2025.01
  (qemu-riscv64_smode, loadertruth/uboot_riscv.py): the same verdicts on every variant.
- GRUB: upstream 2.06 (grub-core/loader/riscv/linux.c) has no Linux loader on riscv:
  ``linux`` fails with 'Linux not supported yet'. 2.12 (grub-core/loader/efi/linux.c,
  shared with arm64): "MZ" in code0, a native PE32+ optional header, then firmware
  LoadImage; the RISC-V magics are not read.
- EFI firmware (EDK2 PeCoffLoaderGetPeHeader): "MZ", e_lfanew (0x3c) at "PE\\0\\0",
  Machine 0x5064 (RISCV64). The Image header fields are not read.
- QEMU: qemu-system-riscv64 -kernel is not modelled (n/a).
"""

from __future__ import annotations

from validator.loaders import at_least, found, per_image

TYPE_CHECKING = False
if TYPE_CHECKING:
    from validator.rules.engine import Context

FORMAT = "riscv64-image"
ARCH = "riscv64"
NOT_APPLICABLE = {"qemu": "qemu-system-riscv64 -kernel is not modelled"}

#: The first kexec-tools release with kexec/arch/riscv (v2.0.32, 15d78e5).
KEXEC_TOOLS_FIRST = "2.0.32"
#: The first Linux release whose riscv kexec_file_loaders[] has the Image loader.
KEXEC_FILE_IMAGE = "6.16"
#: The first GRUB release with a riscv Linux loader (loader/efi/linux.c).
GRUB_FIRST = "2.12"
#: The reason a release of a loader refuses the kernel for want of a loader for it.
NOT_SUPPORTED = "loader/not-supported"

_TRUNCATED = "riscv64/truncated-header"
REJECTS = {
    "kexec-tools": {
        _TRUNCATED: "image_riscv_probe: 'No riscv image header'",
        "riscv64/bad-magic": "image_riscv_probe: riscv_header_check_magic",
        "riscv64/version-too-old": "image_riscv_probe: riscv_header_check_magic wants "
                                   "version >= 0.2",
        "riscv64/image-size-zero": "image_riscv_load: 'Kernel image size is NULL'",
        "riscv64/big-endian": "image_riscv_load: 'Kernel image was built as big endian'",
        "riscv64/image-size-implausible": "riscv_find_pbase: 'Could not find a memory region "
                                          "for the provided Image'",
    },
    "kexec-file": {
        _TRUNCATED: "image_probe: kernel_len < sizeof(struct riscv_image_header)",
        "riscv64/image-size-zero": "image_load: !h->image_size returns -EINVAL",
        "riscv64/big-endian": "image_load: be_image != be_kernel returns -EINVAL",
        "riscv64/image-size-smaller-than-file": "sanity_check_segment_list: bufsz > memsz",
        "riscv64/image-size-implausible": "kexec_add_buffer: no hole of that size",
    },
    "u-boot": {
        "riscv64/bad-magic": "booti_setup: 'Bad Linux RISCV Image magic!'",
        "riscv64/image-size-zero": "booti_setup: 'Image lacks image_size field, error!'",
        "riscv64/image-size-implausible": "booti moves image_size bytes to the start of RAM + "
                                          "text_offset, over U-Boot itself ('Unhandled "
                                          "exception'; loader truth, 2025.01)",
        "elf/riscv64-vmlinux": "booti_setup: an ELF has no RSC\\x05 at 0x38",
    },
    "grub": {
        _TRUNCATED: "grub_arch_efi_linux_load_image_header: 'failed to read Linux image "
                    "header'",
        "riscv64/no-efi-stub": "'plain image kernel not supported - rebuild with "
                               "CONFIG_(U)EFI_STUB enabled'",
        "riscv64/pe-offset-invalid": "no PE header at e_lfanew",
        "riscv64/pe-machine": "firmware LoadImage refuses a PE image of another machine",
        "elf/riscv64-vmlinux": "GRUB's linux command takes an Image, not an ELF",
    },
    "efi": {
        _TRUNCATED: "cannot read the DOS header",
        "riscv64/no-efi-stub": "no MZ: not a PE image",
        "riscv64/pe-offset-invalid": "PeCoffLoaderGetPeHeader: e_lfanew does not point at "
                                     "PE\\0\\0",
        "riscv64/pe-machine": "PE Machine is not 0x5064",
        "elf/riscv64-vmlinux": "a vmlinux ELF is not a PE application",
    },
    "qemu": {},
}


@per_image
def judges(ctx: Context) -> bool:
    """True when the kernel is a riscv64 one (or a RISC-V header cut short)."""
    return ctx.result.format == FORMAT or ctx.arch() == ARCH or _TRUNCATED in found(ctx)


def applies(name: str, ctx: Context) -> bool:
    return name not in NOT_APPLICABLE


def special(name: str, ctx: Context, version: str):
    """(rule ID or None, note, rejects) beyond the tables, for loader ``name``."""
    elf = ctx.layer("elf") is not None
    if name == "kexec-tools" and not at_least(version, KEXEC_TOOLS_FIRST):
        yield (NOT_SUPPORTED, f"kexec-tools {version} has no riscv port (kexec/arch/riscv "
               "from 2.0.32, b3fd54b and b257f31)", True)
    elif name == "kexec-tools" and elf:
        yield (None, "elf-riscv loads the vmlinux ELF", False)
    elif name == "kexec-tools":
        yield (None, f"image-riscv: the base is aligned to text_offset "
               f"{ctx.header.get('text_offset', 0):#x}", False)
    elif name == "kexec-file" and not elf and not at_least(version, KEXEC_FILE_IMAGE):
        yield (NOT_SUPPORTED, f"Linux {version}: riscv kexec_file_loaders[] has only "
               "elf_kexec_ops; the Image loader is 6.16's (809a11eea8e8)", True)
    elif name == "kexec-file" and not elf and ctx.header.get("version", {}).get("raw", 2) < 2:
        yield (None, "header version before 0.2: image_probe does not test magic2", False)
    elif name == "kexec-file" and not elf and any(
            f.rule == "riscv64/bad-magic" for f in ctx.result.findings):
        yield ("riscv64/bad-magic", "image_probe: header version 0.2 or later and no "
               "RSC\\x05 in magic2 (-EINVAL)", True)
    elif name == "grub" and not at_least(version, GRUB_FIRST):
        yield (NOT_SUPPORTED, f"GRUB {version}: grub-core/loader/riscv/linux.c 'Linux not "
               "supported yet' (a riscv Linux loader from 2.12)", True)
    elif name == "u-boot" and ctx.header and not elf:
        yield (None, "booti moves the image to the start of RAM + text_offset", False)
