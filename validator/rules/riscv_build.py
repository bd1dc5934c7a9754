"""A riscv64 Image against its build: the .config it was made from (``--config``) and its
System.map (``--system-map``).

What the build writes into the header (Linux arch/riscv/kernel/head.S, v6.12): text_offset
0x200000 when __riscv_xlen is 64 (CONFIG_64BIT), 0x400000 for RV32; image_size
``_end - _start``; code0 "MZ" under CONFIG_EFI (the EFI stub, CONFIG_EFI_STUB, needs it),
as the Debian 6.12 riscv64 build shows it (corpus/real/debian-6.12.117-riscv64).
CONFIG_RELOCATABLE is not cross-checked: no loader modelled reads it from a RISC-V Image
(kexec-tools and kexec_file_load place the Image at any text_offset-aligned base, U-Boot
at the start of RAM + text_offset, and a non-relocatable riscv kernel runs there).
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.riscv64_image import FORMAT as _FORMAT
from validator.formats.riscv64_image import TEXT_OFFSET_RV32, TEXT_OFFSET_RV64
from validator.rules.engine import Context, check

FORMAT = (_FORMAT,)

rule("riscv64/config-64bit-mismatch", "error",
     "text_offset contradicts CONFIG_64BIT",
     "head.S writes text_offset 2 MiB for a 64-bit kernel (CONFIG_64BIT) and 4 MiB for a "
     "32-bit one: the image and the config come from different builds.",
     "Linux v6.12 arch/riscv/kernel/head.S (the image load offset)",
     ())
rule("riscv64/config-efi-stub-mismatch", "error",
     "the image's \"MZ\" contradicts CONFIG_EFI_STUB",
     "head.S starts the image with \"MZ\" (c.li s4, -13) when CONFIG_EFI is set, which the "
     "EFI stub (CONFIG_EFI_STUB) needs; an image without it from a config with the stub, or "
     "with it from a config without EFI, comes from another build.",
     "Linux v6.12 arch/riscv/kernel/head.S; arch/riscv/Kconfig (EFI_STUB)",
     ("efi", "grub"))
rule("riscv64/symbols-image-size-mismatch", "error",
     "image_size is not _end - _start of the System.map",
     "head.S writes image_size as _end - _start (_start is the header; _text follows the "
     "head section): another difference means the map belongs to another build.",
     "Linux v6.12 arch/riscv/kernel/head.S (the effective image size)",
     ())


@check(formats=FORMAT, needs=("config",))
def config(ctx: Context):
    cfg, h, facts = ctx.config, ctx.header, ctx.facts
    if cfg.arch not in (None, "riscv"):
        return  # config/arch-mismatch says so
    bits64 = cfg.enabled("64BIT")
    want = TEXT_OFFSET_RV64 if bits64 else TEXT_OFFSET_RV32
    if (cfg.get("64BIT") is not None or cfg.arch == "riscv") \
            and h["text_offset"] in (TEXT_OFFSET_RV64, TEXT_OFFSET_RV32) \
            and h["text_offset"] != want:
        yield finding("riscv64/config-64bit-mismatch", f"text_offset "
                          f"{h['text_offset']:#x}, CONFIG_64BIT "
                          f"{'is set' if bits64 else 'is not set'} ({want:#x})",
                          offset=0x08, field="text_offset")
    if cfg.get("EFI_STUB") is not None or cfg.get("EFI") is not None:
        stub = cfg.enabled("EFI_STUB")
        if stub and not facts["efi_stub"] or facts["efi_stub"] and not cfg.enabled("EFI"):
            yield finding("riscv64/config-efi-stub-mismatch", f"the image "
                          f"{'starts' if facts['efi_stub'] else 'does not start'} with "
                          f"\"MZ\", CONFIG_EFI_STUB {'is set' if stub else 'is not set'}",
                          offset=0, field="code0")


@check(formats=FORMAT, needs=("symbols",))
def symbols(ctx: Context):
    start, end = ctx.symbols.get("_start"), ctx.symbols.get("_end")
    size = ctx.header["image_size"]
    if start is None or end is None or not size:
        return
    if end - start != size:
        yield finding("riscv64/symbols-image-size-mismatch", f"_end - _start is "
                      f"{end - start:#x}, image_size {size:#x}", offset=0x10,
                      field="image_size")
