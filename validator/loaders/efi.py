"""UEFI firmware and systemd-boot starting the kernel as a PE application.

EDK2 PeCoffLoaderGetPeHeader and systemd src/boot/pe.c: "MZ", e_lfanew (res5) pointing at
"PE\\0\\0", Machine 0xaa64, a PE32+ optional header, sections inside the file. The Linux
header fields are not read; a compressed Image is not a PE file; a zboot image is.

A UKI (``validator.formats.uki``) is a PE application the firmware starts; its stub then
starts the kernel in ``.linux`` only if that is a PE image of the stub's machine with
MajorImageVersion >= 1 (systemd v257 src/boot/pe.c pe_kernel_info, src/boot/linux.c
linux_exec: "Bad kernel image"), so a zboot or an EFI-stub Image is taken and an Image.gz
is not: the ``uki/*`` rules below.
"""

from __future__ import annotations

from validator.loaders import riscv, x86
from validator.rules.engine import Context

NAME = "efi"
VERSIONS = ("EDK2 2022.11, 2025.02 and 2026.08 (Debian 12's, 13's and unstable's "
            "qemu-efi-aarch64, run), systemd-stub 252, 254, 257 and 262 (Debian 12, "
            "bookworm-backports, 13 and unstable, run on UKIs: tests/test_uki_efi.py) and "
            "systemd-boot (read)")
#: The same verdict at each release on the 353 arm64 loader-truth variants (README).
RELEASES = (("2022.11", "edk2-stable202211 MdePkg/Library/BasePeCoffLib", "run"),
            ("2025.02", "edk2-stable202502 MdePkg/Library/BasePeCoffLib", "run"),
            ("2026.08", "edk2-stable202608 MdePkg/Library/BasePeCoffLib", "run"))
#: The firmware starts a zboot's PE, and its stub (drivers/firmware/efi/libstub/zboot.c)
#: decompresses [_gzdata_start, _gzdata_end) with the codec built into it: the header's
#: payload offset, size and codec name are not read. Run: EDK2 2022.11, 2025.02 and
#: 2026.08 boot a zboot whose header names another codec, or a payload past the file.
STARTS_ZBOOT_STUB = True
NOT_APPLICABLE = "ppc64 kernels are not EFI applications"

REJECTS = {
    "elf/arm64-vmlinux": "a vmlinux ELF is not a PE application",
    "layer/unknown-format": "not a PE image",
    "layer/compressed": "a compressed Image is not a PE file",
    "arm64/no-efi-stub": "no MZ: not a PE image",
    "arm64/pe-offset-invalid": "e_lfanew does not point at PE\\0\\0",
    "arm64/pe-machine": "PE Machine is not 0xaa64",
    "arm64/truncated-header": "cannot read the DOS header",
    "arm64/pe-sections-outside-file": "PeCoffLoaderLoadImage: section data past the file",
    "arm64/file-truncated": "PeCoffLoaderGetImageInfo / PeCoffLoaderLoadImage: the PE "
                            "image is not all in the file",
    "layer/zboot-no-pe": "PeCoffLoaderGetPeHeader: no PE header",
    "target/arch-mismatch": "firmware starts applications of its own machine type",
    "target/page-size": "the kernel cannot run on this CPU",
    "uki/section-outside-file": "PeCoffLoaderLoadImage: section data past the file",
    "uki/linux-not-pe": "systemd-stub pe_kernel_info: .linux is no PE image ('Bad kernel "
                        "image')",
    "uki/linux-stub-too-old": "systemd-stub pe_kernel_info: MajorImageVersion < 1 "
                              "('Bad kernel image')",
    "uki/linux-machine": "systemd-stub pe_kernel_info: .linux is for another machine",
    "uki/no-default-linux": "systemd-stub find_sections: no .linux in the base sections or "
                            "profile 0 ('Image lacks .linux section')",
    "layer/uimage": "PeCoffLoaderGetPeHeader: a uImage is no PE image",
    "layer/android": "PeCoffLoaderGetPeHeader: an Android boot image is no PE image",
    "layer/fit": "PeCoffLoaderGetPeHeader: a FIT is no PE image",
}
REJECTS.update(x86.REJECTS[NAME])  # an x86 bzImage's (validator/loaders/x86.py)
REJECTS.update(riscv.REJECTS[NAME])  # a riscv64 kernel's (validator/loaders/riscv.py)


def applies(ctx: Context) -> bool:
    if x86.judges(ctx):
        return x86.applies(NAME, ctx)
    if riscv.judges(ctx):
        return riscv.applies(NAME, ctx)
    return ctx.arch() != "ppc64"
