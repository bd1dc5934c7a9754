"""The image against the machine that will run it (``--target``)."""

from __future__ import annotations

from validator.catalogue import ALL_LOADERS, finding, rule
from validator.rules.engine import Context, check

rule("target/arch-mismatch", "error",
     "the image is for another architecture than the target",
     "No loader starts a kernel of another architecture.",
     "kexec-tools per-arch probes; Linux kexec_file_load arch loaders",
     ALL_LOADERS)
rule("target/endianness", "warning",
     "the arm64 image's byte order differs from the target kernel's",
     "kexec_file_load refuses an Image whose flags bit 0 differs from the running kernel's "
     "byte order unless the CPU supports mixed endianness; kexec-tools and U-Boot ignore the "
     "bit.",
     "Linux 6.1 arch/arm64/kernel/kexec_image.c image_load; booting.rst 'Bit 0'",
     ("kexec-file",))
rule("target/page-size", "error",
     "the target CPU does not support the image's page size",
     "A kernel whose translation granule the CPU lacks cannot turn its MMU on; "
     "kexec_file_load refuses it up front, other loaders start it and it hangs.",
     "Linux 6.1 arch/arm64/kernel/kexec_image.c image_load; Arm ARM ID_AA64MMFR0_EL1.TGran*",
     ALL_LOADERS)


@check(formats=("arm64-image", "ppc64-head", "x86-bzimage", "riscv64-image"), needs=("target",))
def target(ctx: Context):
    t, facts = ctx.target, ctx.facts
    if facts["arch"] != t.arch:
        yield finding("target/arch-mismatch",
                      f"the image is {facts['arch']}, the target {t.describe()}")
        return
    if t.arch == "arm64" and facts["endianness"] and facts["endianness"] != t.endianness \
            and not t.mixed_endian:
        yield finding("target/endianness",
                      f"the image is {facts['endianness']}-endian, the target "
                      f"{t.endianness}-endian", offset=0x18, field="flags.be")
    size = facts.get("page_size")
    if size and t.supports_page_size(size) is False:
        yield finding("target/page-size",
                      f"the image uses {size // 1024} KiB pages, the target supports "
                      f"{t.describe()}", field="flags.page_size")
