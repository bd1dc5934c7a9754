"""GRUB's ``linux`` command on arm64 EFI (loader/efi/linux.c; 2.12, Debian 2.06-13).

Needs the EFI stub: "MZ" in code0 ("plain image kernel not supported") and a PE32+ header
at res5; the ARM\\x64 magic is no longer checked (removed Aug 2022; upstream 2.06 and
older refuse an image without it); decompresses gzip, xz and lzo transparently; a zboot
image is an EFI application and starts.
"""

from __future__ import annotations

from validator.rules.engine import Context

NAME = "grub"
VERSIONS = "GRUB 2.12 and Debian 2.06-13 (read)"
NOT_APPLICABLE = "GRUB on ppc64 (ieee1275) is not modelled"

REJECTS = {
    "elf/arm64-vmlinux": "GRUB's linux command takes an Image, not an ELF",
    "layer/unknown-format": "not a kernel",
    "arm64/no-efi-stub": "'plain image kernel not supported'",
    "arm64/pe-offset-invalid": "no PE header at res5",
    "arm64/pe-machine": "PE header for another machine",
    "arm64/truncated-header": "cannot read the header",
    "arm64/pe-sections-outside-file": "the firmware's LoadImage refuses it",
    "arm64/file-truncated": "the firmware's LoadImage refuses a PE image cut short",
    "layer/zboot-no-pe": "the firmware's LoadImage refuses it",
    "target/arch-mismatch": "GRUB arm64-efi starts arm64 kernels only",
}

DECOMPRESSES = {"gzip", "xz", "lzo"}


def applies(ctx: Context) -> bool:
    return ctx.arch() != "ppc64"


def special(ctx: Context):
    compression = ctx.facts.get("compression")
    if compression and ctx.layer("zboot") is None and compression not in DECOMPRESSES:
        yield ("layer/compressed", f"GRUB does not undo {compression}", True)
    if ctx.result.format == "arm64-image" and ctx.header.get("magic") != "ARMd":
        yield (None, "GRUB 2.06 and older (upstream) refuse an image without ARM\\x64", False)
