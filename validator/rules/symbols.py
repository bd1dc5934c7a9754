"""The image against its symbols (``--system-map``: a System.map or the vmlinux itself)."""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.rules.engine import Context, check

rule("symbols/malformed-line", "warning",
     "a line of the System.map is not 'address type name'",
     "System.map is nm output; other lines are skipped.",
     "Linux scripts/mksysmap",
     ())
rule("symbols/stub", "info",
     "the System.map is a placeholder without symbols",
     "Debian's linux-image packages ship a one-line System.map that points to the -dbg "
     "package; give that package's vmlinux (or its System.map) to check symbols.",
     "Debian linux-image-* packages, /boot/System.map-*",
     ())
rule("symbols/no-base", "info",
     "the symbols have neither _text nor _stext",
     "Offsets in the image are relative to _text (arm64) or _stext (ppc64); without either "
     "no symbol can be placed in the image.",
     "Linux 6.1 arch/*/kernel/vmlinux.lds.S",
     ())
rule("symbols/run-at-load-offset", "error",
     "__run_at_load is not at _stext + 0x5c",
     "kexec-tools, kexec_file_load's purgatory and the kernel all use the fixed offset 0x5c; "
     "a symbol elsewhere means the head layout is not the one loaders expect, or the map "
     "belongs to another build.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S ('. = 0x5c'); kexec-tools purgatory v2wrap.S",
     ("kexec-tools", "kexec-file"))
rule("symbols/secondary-hold-offset", "error",
     "__secondary_hold is not at _stext + 0x60",
     "Firmware and kexec release secondary CPUs at 0x60 of the copied head.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S; arch/powerpc/kernel/misc_64.S kexec_sequence",
     ("kexec-tools", "kexec-file"))
rule("symbols/run-at-load-mismatch", "error",
     "the symbols and the word at 0x5c disagree on whether __run_at_load exists",
     "A relocatable kernel has the symbol __run_at_load and \"run0\" (or 1) at 0x5c; one "
     "without the other means the map belongs to another build.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S",
     ())
rule("symbols/image-size-mismatch", "error",
     "image_size differs from _end - _text",
     "The linker script sets image_size to _end - _text; another value means the map "
     "belongs to another build or the header was edited.",
     "Linux 6.1 arch/arm64/kernel/image.h _kernel_size_le",
     ("kexec-tools", "kexec-file", "u-boot"))
rule("symbols/entry-mismatch", "error",
     "code1 does not branch to primary_entry",
     "In 6.1 code1 is `b primary_entry`; a different target means the map belongs to another "
     "build or the header was edited.",
     "Linux 6.1 arch/arm64/kernel/head.S",
     ())


@check(needs=("symbols",))
def map_file(ctx: Context):
    smap = ctx.symbols
    for number, line in smap.problems[:20]:
        yield finding("symbols/malformed-line", f"{smap.path}:{number}: {line[:80]!r}")
    if smap.stub or not smap.count:
        yield finding("symbols/stub", f"{smap.path} has no symbols")
    elif smap.base() is None:
        yield finding("symbols/no-base", f"{smap.path} has no _text or _stext")


@check(formats=("ppc64-head",), needs=("symbols",))
def ppc64_symbols(ctx: Context):
    smap = ctx.symbols
    base = smap.get("_stext") if smap.get("_stext") is not None else smap.base()
    if base is None:
        return
    run_at_load = smap.get("__run_at_load")
    if run_at_load is not None and run_at_load - base != 0x5C:
        yield finding("symbols/run-at-load-offset",
                      f"__run_at_load is at _stext + {run_at_load - base:#x}")
    hold = smap.get("__secondary_hold")
    if hold is not None and hold - base != 0x60:
        yield finding("symbols/secondary-hold-offset",
                      f"__secondary_hold is at _stext + {hold - base:#x}")
    word = ctx.header["run_at_load"]
    if (run_at_load is None) != (word == 0):
        yield finding("symbols/run-at-load-mismatch",
                      f"the word at 0x5c is {word:#x}, the symbol __run_at_load is "
                      f"{'absent' if run_at_load is None else 'present'}",
                      offset=0x5C, field="run_at_load")


@check(formats=("arm64-image",), needs=("symbols",))
def arm64_symbols(ctx: Context):
    smap, h = ctx.symbols, ctx.header
    base = smap.base()
    if base is None:
        return
    end = smap.get("_end")
    if end is not None and h["image_size"] and end - base != h["image_size"]:
        yield finding("symbols/image-size-mismatch",
                      f"image_size is {h['image_size']:#x}, _end - _text is {end - base:#x}",
                      offset=0x10, field="image_size")
    entry = smap.get("primary_entry")
    target = h["code1_branch_target"]
    if entry is not None and target >= 0 and entry - base != target:
        yield finding("symbols/entry-mismatch",
                      f"code1 branches to {target:#x}, primary_entry is at {entry - base:#x}",
                      offset=4, field="code1")
