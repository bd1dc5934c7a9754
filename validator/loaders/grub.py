"""GRUB's ``linux`` command on arm64 EFI (loader/efi/linux.c; 2.12, Debian 2.06-13).

Needs the EFI stub: "MZ" in code0 ("plain image kernel not supported") and a PE32+ header
at res5; the ARM\\x64 magic is no longer checked (removed Aug 2022; upstream 2.06 and
older refuse an image without it); decompresses gzip, xz and lzo transparently; a zboot
image is an EFI application and starts.

By release: 2.06 (grub-2.06, loader/arm64/linux.c grub_arch_efi_linux_check_image) refuses an
image without the ARM\\x64 magic ("invalid magic number"), so also a zboot PE; 2.12
(grub-2.12, loader/efi/linux.c grub_arch_efi_linux_load_image_header) dropped that check
and starts a zboot. A UKI is started the same way: 2.12's grub_cmd_linux checks "MZ" and a
native PE32+ optional header (grub_arch_efi_linux_load_image_header) and
grub_arch_efi_linux_boot_image hands the whole file to firmware LoadImage/StartImage, so
the stub runs and starts its .linux (the ``efi`` model judges that); 2.06 refuses it
for the missing magic. That 2.12 refuses a PE32 (not PE32+) image is not modelled: it was
not re-read here and kimage has no rule for a PE32 optional header.

By build (``BUILDS``; ``grub@2.06+debian`` judges Debian 12's): Debian's 2.06-13 carries
the upstream commit that dropped the magic check (69edb312, "loader/arm64/linux: Remove
magic number header field check", in 2.12) as debian/patches/
arm64_remove_magic_number_check.patch; 2.06 already started the kernel through the
firmware's LoadImage/StartImage, so Debian's 2.06 starts an Image with a wrong magic, a
zboot and a UKI as 2.12 does. Run: Debian 12's signed GRUB (grub-efi-arm64-signed
1+2.06+13+deb12u2) under EDK2 (loadertruth/grub.py).
"""

from __future__ import annotations

from validator.loaders import Build, at_least, found, riscv, x86
from validator.rules.engine import Context

NAME = "grub"
VERSIONS = ("GRUB 2.06 and 2.12 (read); Debian's signed builds of 2.06-13, 2.12-9 and 2.14-4 "
            "(Debian 12, 13 and unstable, run under EDK2: loadertruth/grub.py); 2.14 is "
            "judged as 2.12")
#: 2.14 (upstream, as in Debian unstable's 2.14-4 orig source; its patches not read)
#: checks an image's header as 2.12 does (grub_arch_efi_linux_load_image_header and
#: grub_arch_efi_linux_check_image are the same; what changed is shim's loader protocol
#: and the command line's load options), so ``grub@2.14`` is judged as 2.12, the release
#: before it, and no third release is judged for every image. Debian's 2.14-4 run agrees.
RELEASES = (
    ("2.06", "grub-2.06 grub-core/loader/arm64/linux.c", "run"),
    ("2.12", "grub-2.12 grub-core/loader/efi/linux.c", "run"),
)
#: A zboot's PE goes to the firmware's LoadImage and StartImage (from 2.12, and in
#: Debian's 2.06, whose magic check is gone): its stub reads none of the zboot header's
#: payload fields (validator/loaders/efi.py, run there).
STARTS_ZBOOT_STUB = True
#: Debian's patch that drops grub-2.06's magic check (upstream 69edb312, from 2.12): in
#: the libraries a build lists, as kexec-tools' builds list the libraries they link.
NO_MAGIC_CHECK = "arm64_remove_magic_number_check.patch"
BUILDS = {
    "upstream": Build("upstream", "an upstream build", {None: ()},
                      "grub-2.06 grub-core/loader/arm64/linux.c "
                      "grub_arch_efi_linux_check_image compares the ARM\\x64 magic before "
                      "'MZ'; grub-2.12 has no such check"),
    "debian": Build("debian", "Debian's build", {None: (NO_MAGIC_CHECK,)},
                    "Debian grub2 2.06-13+deb12u2 debian/patches/series: "
                    "arm64_remove_magic_number_check.patch (upstream 69edb312); run: "
                    "grub-efi-arm64-signed 1+2.06+13+deb12u2 starts an Image with a wrong "
                    "magic, a zboot and a UKI (loadertruth/grub.py)"),
}
DEFAULT_BUILD = "upstream"
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
    "layer/uimage": "grub_arch_efi_linux_load_image_header: a uImage has no \"MZ\" at 0",
    "layer/android": "grub_arch_efi_linux_load_image_header: a boot.img has no \"MZ\" at 0",
    "layer/fit": "grub_arch_efi_linux_load_image_header: a FIT has no \"MZ\" ('plain image "
                 "kernel is not supported')",
}
REJECTS.update(x86.REJECTS[NAME])  # an x86 bzImage's (validator/loaders/x86.py)
REJECTS.update(riscv.REJECTS[NAME])  # a riscv64 kernel's (validator/loaders/riscv.py)

DECOMPRESSES = {"gzip", "xz", "lzo"}


def applies(ctx: Context) -> bool:
    if x86.judges(ctx):
        return x86.applies(NAME, ctx)
    if riscv.judges(ctx):
        return riscv.applies(NAME, ctx)
    return ctx.arch() != "ppc64"


def special(ctx: Context, version: str = RELEASES[-1][0], libraries: tuple[str, ...] = ()):
    if x86.judges(ctx):
        yield from x86.special(NAME, ctx, version)
        return
    if riscv.judges(ctx):
        yield from riscv.special(NAME, ctx, version)
    compression = ctx.facts.get("compression")
    uki = ctx.layer("uki") is not None
    # grub-2.06 grub_arch_efi_linux_check_image compares the magic before "MZ"; 2.12 and
    # Debian's 2.06 (NO_MAGIC_CHECK) do not
    magic_checked = not at_least(version, "2.12") and NO_MAGIC_CHECK not in libraries
    if magic_checked and "arm64/bad-magic" in found(ctx):
        yield ("arm64/bad-magic", "grub_arch_efi_linux_check_image: 'invalid magic number'",
               True)
    if uki and magic_checked:
        yield ("layer/uki", "grub_arch_efi_linux_check_image: a UKI has no ARM\\x64 magic at "
               "0x38 ('invalid magic number'); GRUB 2.12 hands it to firmware LoadImage", True)
    if uki:  # GRUB hands the whole PE to the firmware; the stub starts what is inside
        return
    if compression and ctx.layer("zboot") is None and compression not in DECOMPRESSES:
        yield ("layer/compressed", f"GRUB does not undo {compression}", True)
    if ctx.layer("zboot") is not None and magic_checked:
        yield ("layer/zboot", "grub_arch_efi_linux_check_image: a zboot PE has no ARM\\x64 "
               "magic at 0x38 ('invalid magic number'); GRUB 2.12 starts it", True)
