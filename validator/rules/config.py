"""The image against the kernel configuration it was built from (``--config``).

Symbol meanings: Linux 6.1 arch/arm64/Kconfig, arch/powerpc/Kconfig and
arch/powerpc/platforms/Kconfig.cputype.
"""

from __future__ import annotations

import re

from validator.catalogue import finding, rule
from validator.formats import ppc64_head
from validator.rules.engine import Context, check

rule("config/malformed-line", "warning",
     "a line of the .config is not Kconfig syntax",
     "Kconfig writes only CONFIG_X=value, '# CONFIG_X is not set', comments and blank lines; "
     "anything else was edited by hand or the file is not a .config. The line is skipped.",
     "Linux scripts/kconfig/confdata.c conf_write",
     ())
rule("config/arch-mismatch", "error",
     "the .config is for another architecture than the image",
     "A config for another architecture says nothing about this image: the wrong file was "
     "paired with it.",
     "Linux scripts/kconfig ('# Linux/<arch> <version> Kernel Configuration')",
     ())
rule("config/page-size-mismatch", "error",
     "the image's page size contradicts CONFIG_ARM64_*_PAGES",
     "The header's page-size flag is computed from PAGE_SHIFT at build time; a mismatch means "
     "the image and the config come from different builds.",
     "Linux 6.1 arch/arm64/kernel/head.S __HEAD_FLAG_PAGE_SIZE; arch/arm64/Kconfig",
     ())
rule("config/endianness-mismatch", "error",
     "the image's byte order contradicts CONFIG_CPU_BIG_ENDIAN / CPU_LITTLE_ENDIAN",
     "The header's endianness (arm64 flag bit 0; ppc64 FIXUP_ENDIAN and EI_DATA) follows the "
     "build's CPU_BIG_ENDIAN; a mismatch means the image and config are from different builds.",
     "Linux 6.1 arch/arm64/Kconfig CPU_BIG_ENDIAN; arch/powerpc/platforms/Kconfig.cputype",
     ())
rule("config/relocatable-mismatch", "error",
     "__run_at_load contradicts CONFIG_RELOCATABLE",
     "head_64.S emits __run_at_load (\"run0\", or 1 with RELOCATABLE_TEST) exactly when "
     "CONFIG_RELOCATABLE is set; 0 at 0x5c with RELOCATABLE=y, or a value without it, means "
     "different builds.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S (#ifdef CONFIG_RELOCATABLE at 0x5c)",
     ("kexec-tools", "kexec-file"))
rule("config/run-at-load-patched", "warning",
     "__run_at_load is 1 but the config has no RELOCATABLE_TEST: the image was patched",
     "Only CONFIG_RELOCATABLE_TEST builds carry 1; otherwise a loader wrote it, and the file "
     "now always runs where it is loaded.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S __run_at_load",
     ())
rule("config/efi-stub-mismatch", "error",
     "the image's EFI stub contradicts CONFIG_EFI_STUB",
     "With CONFIG_EFI_STUB (arm64: EFI) code0 is the \"MZ\" of a PE header; without it code0 "
     "is a plain instruction.",
     "Linux 6.1 arch/arm64/kernel/efi-header.S; drivers/firmware/efi/Kconfig",
     ("grub", "efi"))
rule("config/zboot-mismatch", "error",
     "an EFI zboot image, but the config has no CONFIG_EFI_ZBOOT",
     "Only CONFIG_EFI_ZBOOT builds make vmlinuz.efi; a zboot wrapper around a kernel whose "
     "config lacks it comes from another build.",
     "Linux 6.1 drivers/firmware/efi/Kconfig EFI_ZBOOT; "
     "drivers/firmware/efi/libstub/Makefile.zboot",
     ())
rule("config/version-mismatch", "warning",
     "the kernel banner and the .config name different kernel versions",
     "The config's header line names the version it was made for; a banner of another "
     "major.minor release means the config belongs to another kernel.",
     "Linux init/version.c linux_banner; scripts/kconfig/confdata.c",
     ())
rule("config/randomize-base-without-relocatable", "warning",
     "CONFIG_RANDOMIZE_BASE is set without CONFIG_RELOCATABLE",
     "On arm64 RANDOMIZE_BASE selects RELOCATABLE; a config with one and not the other was "
     "edited by hand and does not describe a kernel Kconfig would build.",
     "Linux 6.1 arch/arm64/Kconfig RANDOMIZE_BASE",
     ())
rule("config/crash-dump-not-relocatable", "warning",
     "CONFIG_CRASH_DUMP is set on ppc64 without CONFIG_RELOCATABLE",
     "A ppc64 capture kernel must run where it is loaded; on ppc64 CRASH_DUMP selects "
     "RELOCATABLE, so this config was edited by hand or the kernel cannot serve kdump.",
     "Linux 6.1 arch/powerpc/Kconfig CRASH_DUMP",
     ("kexec-tools", "kexec-file"))

_ARCH = {"arm64": "arm64", "powerpc": "ppc64", "riscv": "riscv64"}
_ARM64_PAGES = {"ARM64_4K_PAGES": 4096, "ARM64_16K_PAGES": 16384, "ARM64_64K_PAGES": 65536}


@check(needs=("config",))
def malformed_lines(ctx: Context):
    for number, line in ctx.config.problems[:20]:
        yield finding("config/malformed-line", f"{ctx.config.path}:{number}: {line[:80]!r}")
    if ctx.config.problem_count > 20:
        yield finding("config/malformed-line",
                      f"{ctx.config.path}: {ctx.config.problem_count - 20} more such lines")


def _config_arch(config) -> str | None:
    if config.arch:
        return _ARCH.get(config.arch, config.arch)
    if config.enabled("ARM64"):
        return "arm64"
    if config.enabled("PPC64"):
        return "ppc64"
    return None


@check(formats=("arm64-image", "ppc64-head", "riscv64-image"), needs=("config",))
def architecture(ctx: Context):
    arch = _config_arch(ctx.config)
    if arch is not None and arch != ctx.facts["arch"]:
        yield finding("config/arch-mismatch",
                      f"the config is for {arch}, the image for {ctx.facts['arch']}")


def _same_arch(ctx: Context) -> bool:
    return _config_arch(ctx.config) in (None, ctx.facts["arch"])


@check(formats=("arm64-image",), needs=("config",))
def arm64_config(ctx: Context):
    if not _same_arch(ctx):
        return
    config, facts, h = ctx.config, ctx.facts, ctx.header
    if h["image_size"]:
        pages = [size for name, size in _ARM64_PAGES.items() if config.enabled(name)]
        if pages and facts["page_size"] is not None and facts["page_size"] != pages[0]:
            yield finding("config/page-size-mismatch",
                          f"flags say {facts['page_size'] // 1024} KiB pages, the config "
                          f"{pages[0] // 1024} KiB", offset=0x18, field="flags.page_size")
        want = "big" if config.enabled("CPU_BIG_ENDIAN") else "little"
        if facts["endianness"] != want:
            yield finding("config/endianness-mismatch",
                          f"flags say {facts['endianness']}-endian, the config {want}",
                          offset=0x18, field="flags.be")
    stub = config.enabled("EFI_STUB") or (config.get("EFI_STUB") is None
                                          and config.enabled("EFI"))
    if stub != h["has_efi_stub"]:
        yield finding("config/efi-stub-mismatch",
                      f"code0 {'has' if h['has_efi_stub'] else 'has no'} \"MZ\", the config "
                      f"{'has' if stub else 'has no'} EFI_STUB", offset=0, field="code0")
    if ctx.layer("zboot") is not None and not config.enabled("EFI_ZBOOT"):
        yield finding("config/zboot-mismatch", "the image is EFI zboot, the config has no "
                      "CONFIG_EFI_ZBOOT")
    if config.enabled("RANDOMIZE_BASE") and not config.enabled("RELOCATABLE"):
        yield finding("config/randomize-base-without-relocatable",
                      "RANDOMIZE_BASE=y, RELOCATABLE is not set")


@check(formats=("ppc64-head",), needs=("config",))
def ppc64_config(ctx: Context):
    if not _same_arch(ctx):
        return
    config, facts = ctx.config, ctx.facts
    if config.enabled("CPU_LITTLE_ENDIAN") or config.enabled("CPU_BIG_ENDIAN"):
        want = "little" if config.enabled("CPU_LITTLE_ENDIAN") else "big"
        if facts["endianness"] != want:
            yield finding("config/endianness-mismatch",
                          f"the image is {facts['endianness']}-endian, the config {want}")
    value = ctx.header["run_at_load"]
    relocatable = config.enabled("RELOCATABLE")
    if relocatable and value == 0:
        yield finding("config/relocatable-mismatch",
                      "RELOCATABLE=y but the word at 0x5c is 0", offset=0x5C,
                      field="run_at_load")
    elif not relocatable and value in (ppc64_head.RUN0, 1):
        yield finding("config/relocatable-mismatch",
                      "RELOCATABLE is not set but the word at 0x5c is "
                      f"{'run0' if value == ppc64_head.RUN0 else 1}", offset=0x5C,
                      field="run_at_load")
    elif relocatable and value == 1 and not config.enabled("RELOCATABLE_TEST"):
        yield finding("config/run-at-load-patched", "0x5c is 1 without RELOCATABLE_TEST",
                      offset=0x5C, field="run_at_load")
    elif config.enabled("RELOCATABLE_TEST") and value == ppc64_head.RUN0:
        yield finding("config/relocatable-mismatch",
                      "RELOCATABLE_TEST=y but the word at 0x5c is \"run0\", not 1",
                      offset=0x5C, field="run_at_load")
    if config.enabled("CRASH_DUMP") and not relocatable:
        yield finding("config/crash-dump-not-relocatable",
                      "CRASH_DUMP=y, RELOCATABLE is not set")


_RELEASE = re.compile(r"^(\d+)\.(\d+)")


@check(formats=("arm64-image", "ppc64-head", "riscv64-image"), needs=("config",))
def version(ctx: Context):
    banner, config = ctx.facts.get("kernel_version"), ctx.config.version
    if not banner or not config:
        return
    a, b = _RELEASE.match(banner), _RELEASE.match(config)
    if a and b and a.groups() != b.groups():
        yield finding("config/version-mismatch",
                      f"the banner says {banner}, the config {config}")
