"""Wrappers around the kernel, as the loaders see them."""

from __future__ import annotations

from validator.rules.engine import Context, check
from validator.rules.registry import finding, rule

rule("layer/compressed", "info",
     "the kernel is compressed: only some loaders decompress it",
     "kexec-tools undoes gzip, xz/lzma and (2.0.31+) zstd itself; U-Boot booti needs "
     "kernel_comp_addr_r and kernel_comp_size; kexec_file_load and UEFI firmware take only an "
     "uncompressed Image; GRUB decompresses gzip, xz and lzo.",
     "kexec-tools kexec/kexec.c slurp_decompress_file; U-Boot boot/image.c image_comp; "
     "shared/reference/arm64.md section 5",
     ("kexec-file", "efi", "u-boot", "kexec-tools"))
rule("layer/zboot", "info",
     "an EFI zboot image (vmlinuz.efi): a PE program that decompresses the kernel",
     "UEFI firmware and GRUB 2.12 start it as an EFI application; kexec-tools 2.0.27+ "
     "unwraps gzip, zstd and lzma payloads; kexec_file_load and U-Boot booti refuse it (no "
     "ARM\\x64 magic at 0x38).",
     "drivers/firmware/efi/libstub/zboot-header.S; kexec-tools kexec/arch/arm64/"
     "kexec-vmlinuz-arm64.c",
     ("kexec-file", "u-boot", "kexec-tools"))


@check()
def wrappers(ctx: Context):
    zboot = ctx.layer("zboot")
    if zboot is not None:
        yield finding("layer/zboot", f"payload compressed with "
                      f"{zboot.get('compression') or 'an unnamed method'}")
    elif ctx.facts.get("compression"):
        yield finding("layer/compressed", f"{ctx.facts['compression']}-compressed kernel")
