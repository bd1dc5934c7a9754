"""Wrappers around the kernel, as the loaders see them."""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.rules.engine import Context, check

rule("layer/compressed", "info",
     "the kernel is compressed: only some loaders decompress it",
     "kexec-tools undoes gzip, xz/lzma and (2.0.31+) zstd itself; U-Boot booti needs "
     "kernel_comp_addr_r and kernel_comp_size; kexec_file_load and UEFI firmware take only an "
     "uncompressed Image; GRUB decompresses gzip, xz and lzo.",
     "kexec-tools kexec/kexec.c slurp_decompress_file; U-Boot boot/image.c image_comp; "
     "loader-truth runs (loadertruth/, README 'Loader truth')",
     ("kexec-file", "efi", "u-boot", "kexec-tools"))
rule("layer/zboot", "info",
     "an EFI zboot image (vmlinuz.efi): a PE program that decompresses the kernel",
     "UEFI firmware and GRUB 2.12 start it as an EFI application; kexec-tools 2.0.27+ "
     "unwraps gzip, zstd and lzma payloads; kexec_file_load and U-Boot booti refuse it (no "
     "ARM\\x64 magic at 0x38).",
     "drivers/firmware/efi/libstub/zboot-header.S; kexec-tools kexec/arch/arm64/"
     "kexec-vmlinuz-arm64.c",
     ("kexec-file", "u-boot", "kexec-tools", "qemu"))
rule("elf/type", "error",
     "the ELF file is neither ET_EXEC nor ET_DYN",
     "kexec_file_load takes ET_EXEC and ET_DYN only; kexec-tools also takes ET_CORE but "
     "refuses a relocatable object (ET_REL), which is what a vmlinux.o is.",
     "Linux 6.1 kernel/kexec_elf.c elf_read_ehdr; kexec-tools kexec/kexec-elf-exec.c "
     "build_elf_exec_info; loader-truth runs (variants elf-type)",
     ("kexec-tools", "kexec-file"))
rule("elf/arm64-vmlinux", "info",
     "an arm64 vmlinux ELF: kexec-tools loads it, the other loaders take the Image",
     "The build's vmlinux is an ELF; what boots is arch/arm64/boot/Image. kexec-tools' "
     "elf_arm64_probe loads the ELF; kexec_file_load (image_probe only), U-Boot booti (no "
     "ARM\\x64 at 0x38), GRUB, UEFI firmware (not a PE application) and QEMU's -kernel "
     "(arm_load_elf starts it as a bare-metal program, without a DTB in x0) do not boot it "
     "as a Linux kernel.",
     "kexec-tools kexec/arch/arm64/kexec-elf-arm64.c; Linux 6.1 arch/arm64/kernel/"
     "machine_kexec_file.c kexec_file_loaders; QEMU 7.2 hw/arm/boot.c",
     ("kexec-file", "u-boot", "grub", "efi", "qemu"))
rule("layer/not-unwrapped", "info",
     "the kernel is inside a wrapper that some loaders do not take off",
     "A boot image (Android boot) or other container is unwrapped by the loader made for "
     "it; a loader that does not know it loads the whole file as a raw blob. Reported by "
     "the loader models that refuse it for this reason.",
     "QEMU 7.2 hw/arm/boot.c arm_setup_direct_kernel_boot (validator/loaders/qemu.py)",
     ("qemu",))
rule("layer/zboot-no-pe", "error",
     "the zboot wrapper has no PE header where its DOS header points",
     "An EFI zboot image is an EFI application: firmware and GRUB read the PE header at "
     "e_lfanew (0x3c) and refuse the file without it.",
     "drivers/firmware/efi/libstub/zboot-header.S; EDK2 PeCoffLoaderGetPeHeader; "
     "loader-truth runs (variant zboot-pe-offset zero)",
     ("efi", "grub", "kexec-tools"))


@check()
def elf_type(ctx: Context):
    elf = ctx.layer("elf")
    if elf is not None and elf.get("type") not in ("ET_EXEC", "ET_DYN", None):
        yield finding("elf/type", f"e_type is {elf.get('type')}", offset=0x10)


@check(formats=("arm64-image",))
def arm64_vmlinux(ctx: Context):
    elf = ctx.layer("elf")
    if elf is not None:
        yield finding("elf/arm64-vmlinux", f"an ELF vmlinux ({elf.get('machine')}, "
                      f"{elf.get('type')}), not the Image a boot loader takes")


@check()
def zboot_pe(ctx: Context):
    zboot = ctx.layer("zboot")
    if zboot is not None and (zboot.get("pe") or {}).get("signature_ok") is False:
        yield finding("layer/zboot-no-pe",
                      f"no \"PE\\0\\0\" at e_lfanew = {zboot['pe'].get('pe_offset', 0):#x}")


@check()
def wrappers(ctx: Context):
    zboot = ctx.layer("zboot")
    if zboot is not None:
        yield finding("layer/zboot", f"payload compressed with "
                      f"{zboot.get('compression') or 'an unnamed method'}")
    elif ctx.facts.get("compression"):
        yield finding("layer/compressed", f"{ctx.facts['compression']}-compressed kernel")
