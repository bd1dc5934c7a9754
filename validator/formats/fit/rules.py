"""What a FIT's kernel node says of the Image inside: where bootm puts and enters it."""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.arm64_image import FORMAT as ARM64
from validator.formats.arm64_image import LEGACY_TEXT_OFFSET
from validator.rules.engine import Context, check

SZ_2M = 2 << 20

rule("fit/kernel-placement", "info",
     "the FIT kernel's load address or entry point does not start the Image as booting.rst "
     "asks",
     "For an image of type kernel, bootm copies (or decompresses) the data to 'load' and "
     "jumps to 'entry' without looking at the Image header; booting.rst wants the Image "
     "text_offset bytes above a 2 MiB-aligned base and entered at its first byte. An image "
     "of type kernel_noload is moved by booti_setup instead, so this does not apply to it.",
     "booting.rst 'Call the kernel image'; U-Boot v2023.01 boot/bootm.c bootm_find_os, "
     "bootm_load_os",
     ())


@check(formats=(ARM64,))
def kernel_placement(ctx: Context):
    fit = ctx.layer("fit")
    k = (fit or {}).get("kernel") or {}
    if k.get("type") != "kernel" or k.get("load") is None:
        return
    h = ctx.header
    offset = h["text_offset"] if h["image_size"] else LEGACY_TEXT_OFFSET
    load, entry = k["load"], k.get("entry")
    if (load - offset) % SZ_2M:
        yield finding("fit/kernel-placement",
                      f"load {load:#x} - text_offset {offset:#x} is not 2 MiB aligned",
                      field="load")
    elif entry is not None and entry != load:
        yield finding("fit/kernel-placement",
                      f"entry {entry:#x} is not the Image's first byte (load {load:#x})",
                      field="entry")
