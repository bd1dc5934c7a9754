"""An x86 bzImage against its build: the .config it was made from (``--config``) and its
System.map (``--system-map``).

What the build writes into the setup header: Linux arch/x86/boot/header.S (MZ under
CONFIG_EFI_STUB; kernel_alignment = CONFIG_PHYSICAL_ALIGN; relocatable_kernel =
CONFIG_RELOCATABLE; XLF_KERNEL_64 = CONFIG_X86_64; pref_address = LOAD_PHYSICAL_ADDR) as
the Debian 6.1 amd64 build shows it (corpus/real/debian-6.1.0-50-amd64).
"""

from __future__ import annotations

import re

from validator.catalogue import finding, rule
from validator.formats.x86_bzimage import FORMAT as _FORMAT
from validator.rules.engine import Context, check

FORMAT = (_FORMAT,)
#: __START_KERNEL_map (arch/x86/include/asm/page_64_types.h): _text of an x86-64 vmlinux
#: is this plus LOAD_PHYSICAL_ADDR, the header's pref_address.
START_KERNEL_MAP = 0xFFFFFFFF80000000
_RELEASE = re.compile(r"^(\d+)\.(\d+)")

rule("x86/config-64bit-mismatch", "error",
     "XLF_KERNEL_64 contradicts CONFIG_X86_64",
     "header.S sets XLF_KERNEL_64 exactly when CONFIG_X86_64 is set: the image and the "
     "config come from different builds.",
     "Linux arch/x86/boot/header.S xloadflags (XLF0)",
     ())
rule("x86/config-relocatable-mismatch", "error",
     "relocatable_kernel contradicts CONFIG_RELOCATABLE",
     "header.S writes relocatable_kernel 1 exactly when CONFIG_RELOCATABLE is set.",
     "Linux arch/x86/boot/header.S relocatable_kernel",
     ())
rule("x86/config-physical-align-mismatch", "error",
     "kernel_alignment differs from CONFIG_PHYSICAL_ALIGN",
     "header.S writes CONFIG_PHYSICAL_ALIGN into kernel_alignment; loaders place the "
     "kernel at a multiple of it.",
     "Linux arch/x86/boot/header.S kernel_alignment",
     ())
rule("x86/config-physical-start-mismatch", "error",
     "pref_address differs from CONFIG_PHYSICAL_START rounded up to CONFIG_PHYSICAL_ALIGN",
     "header.S writes LOAD_PHYSICAL_ADDR, CONFIG_PHYSICAL_START aligned up to "
     "CONFIG_PHYSICAL_ALIGN, into pref_address.",
     "Linux arch/x86/boot/header.S pref_address; arch/x86/include/asm/boot.h "
     "LOAD_PHYSICAL_ADDR",
     ())
rule("x86/config-efi-stub-mismatch", "error",
     "the image's \"MZ\" contradicts CONFIG_EFI_STUB",
     "header.S starts the boot sector with \"MZ\" exactly when CONFIG_EFI_STUB is set.",
     "Linux arch/x86/boot/header.S bootsect_start",
     ("efi",))
rule("x86/symbols-text-mismatch", "error",
     "_text in the System.map is not __START_KERNEL_map + pref_address",
     "An x86-64 vmlinux is linked at __START_KERNEL = __START_KERNEL_map + "
     "LOAD_PHYSICAL_ADDR, and header.S writes LOAD_PHYSICAL_ADDR into pref_address: "
     "another _text means the map belongs to another build.",
     "Linux arch/x86/kernel/vmlinux.lds.S; arch/x86/include/asm/page_64_types.h",
     ())


@check(formats=FORMAT, needs=("config",))
def config(ctx: Context):
    cfg, h, facts = ctx.config, ctx.header, ctx.facts
    arch = cfg.arch or ("x86" if cfg.enabled("X86") else None)
    if arch is not None and arch != "x86":
        yield finding("config/arch-mismatch", f"the config is for {arch}, the image for "
                      f"{facts['arch']}")
        return
    if h["version"] >= 0x020C and cfg.enabled("X86_64") != h["xlf_kernel_64"]:
        yield finding("x86/config-64bit-mismatch", f"XLF_KERNEL_64 is "
                      f"{'set' if h['xlf_kernel_64'] else 'clear'}, CONFIG_X86_64 "
                      f"{'is set' if cfg.enabled('X86_64') else 'is not set'}",
                      offset=0x236, field="xloadflags")
    if h["version"] >= 0x0205:
        if cfg.enabled("RELOCATABLE") != bool(h["relocatable_kernel"]):
            yield finding("x86/config-relocatable-mismatch", f"relocatable_kernel is "
                          f"{h['relocatable_kernel']}, CONFIG_RELOCATABLE "
                          f"{'is set' if cfg.enabled('RELOCATABLE') else 'is not set'}",
                          offset=0x234, field="relocatable_kernel")
        align = cfg.integer("PHYSICAL_ALIGN")
        if align is not None and align != h["kernel_alignment"]:
            yield finding("x86/config-physical-align-mismatch",
                          f"kernel_alignment {h['kernel_alignment']:#x}, CONFIG_PHYSICAL_ALIGN "
                          f"{align:#x}", offset=0x230, field="kernel_alignment")
        start = cfg.integer("PHYSICAL_START")
        if (h["version"] >= 0x020A and start is not None and align
                and -(-start // align) * align != h["pref_address"]):
            want = -(-start // align) * align
            yield finding("x86/config-physical-start-mismatch",
                          f"pref_address {h['pref_address']:#x}, LOAD_PHYSICAL_ADDR from the "
                          f"config {want:#x}", offset=0x258, field="pref_address")
    stub = cfg.enabled("EFI_STUB")
    if cfg.get("EFI_STUB") is not None and stub != facts["efi_stub"]:  # the config says
        yield finding("x86/config-efi-stub-mismatch", f"the image "
                      f"{'starts' if facts['efi_stub'] else 'does not start'} with "
                      f"\"MZ\", CONFIG_EFI_STUB {'is set' if stub else 'is not set'}",
                      offset=0, field="dos_magic")
    yield from _version(ctx)


def _version(ctx: Context):
    banner, config = ctx.facts.get("kernel_version"), ctx.config.version
    a, b = _RELEASE.match(banner or ""), _RELEASE.match(config or "")
    if a and b and a.groups() != b.groups():
        yield finding("config/version-mismatch", f"the header's version string says "
                      f"{banner}, the config {config}")


@check(formats=FORMAT, needs=("symbols",))
def symbols(ctx: Context):
    h = ctx.header
    text = ctx.symbols.get("_text")
    if text is None or not h["xlf_kernel_64"] or h["version"] < 0x020A:
        return
    if text != START_KERNEL_MAP + h["pref_address"]:
        yield finding("x86/symbols-text-mismatch", f"_text is {text:#x}, "
                      f"__START_KERNEL_map + pref_address is "
                      f"{START_KERNEL_MAP + h['pref_address']:#x}", offset=0x258,
                      field="pref_address")
