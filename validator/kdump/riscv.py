"""preflight on riscv64 hosts: where each loader puts a riscv64 Image's crash kernel
segments.

Placement, as the sources do it (every segment inside crashk_res, the "Crash kernel"
range of /proc/iomem; with ``crashkernel=X,high`` that is the range above 4 GiB, the
``,low`` one is left for DMA and swiotlb, Linux kernel/crash_reserve.c):

- kexec-tools v2.0.32 (the first release with a riscv port), image-riscv
  (kexec/arch/riscv/kexec-image-riscv.c image_riscv_load, kexec-riscv.c
  riscv_find_pbase and load_extra_segments; crashdump-riscv.c): the kernel at the crash
  region's start rounded up to text_offset, image_size bytes; then the ELF core headers,
  the initrd and the dtb (the running machine's /sys/firmware/fdt plus the kdump
  properties) above the kernel's end, as high as they fit. Checked against the real
  kexec-tools 2.0.32 ``-p`` under qemu-riscv64 (tests/test_preflight_riscv.py): the
  kernel lands at the crash region's start, the dtb and the ELF core headers at its top.
- kexec_file_load, Linux 6.16 and later (arch/riscv/kernel/kexec_image.c image_load,
  machine_kexec_file.c load_extra_segments): the kernel bottom-up (top_down false) at a
  multiple of text_offset, image_size bytes; the ELF core headers, purgatory, the initrd
  and the dtb after it. Before 6.16 kexec_file_load takes no riscv Image (the verdict
  says so); a riscv kernel is position-independent in physical memory (the kernel
  computes its physical offset at boot), so CONFIG_RELOCATABLE does not decide where it
  may run.
"""

from __future__ import annotations

from validator.kdump.host import Evidence, Host, KiB, MiB
from validator.kdump.model import Step, img_ev
from validator.kdump.placement import ALLOWANCES, _dtb_size, _Seg, crash_evidence, fit
from validator.model import ImageResult

ARCHES = ("riscv64",)
#: text_offset head.S writes for RV64 (PMD_SIZE): the alignment when the header has none.
DEFAULT_ALIGN = 2 * MiB


def segments(result: ImageResult, host: Host, loader: str, base: int,
             initrd_size: int) -> tuple[list[_Seg], list[Evidence]] | str:
    """The segments ``loader`` asks for, in its order (placement.step_fit's contract)."""
    facts = result.facts
    size = facts.get("image_size")
    if not size:
        return "image_size is 0: no loader places the kernel"
    align = facts.get("text_offset") or DEFAULT_ALIGN
    if align & (align - 1):
        return f"text_offset {align:#x} is no power of two: the alignment is not modelled"
    dtb, dtb_why = _dtb_size(host)
    ev = [img_ev("facts.image_size", size), img_ev("facts.text_offset", align)]
    kernel_why = "image_size bytes at the region's start rounded up to text_offset"
    segs = [_Seg("kernel", size, align, "bottom-up", why=kernel_why),
            _Seg("elfcorehdr", ALLOWANCES["elfcorehdr"], 0, "top-down", why="allowance")]
    if loader == "kexec-file":
        segs.append(_Seg("purgatory", ALLOWANCES["purgatory"], 0, "top-down",
                         why="allowance"))
    if initrd_size:
        segs.append(_Seg("initrd", initrd_size, 0, "top-down", why="the initrd"))
    segs.append(_Seg("dtb", dtb, 0, "top-down", why=dtb_why))
    return segs, ev


def step_fit(result: ImageResult, host: Host, loader: str, initrd_size: int) -> Step:
    if host.crash is None:
        return Step("fit", "skip", "no crash region to fit into")
    return fit(result, host, loader, initrd_size, segments,
               page=host.page_size or 4 * KiB, default_base=0,
               base_note="a text_offset-aligned base", first_ev=[crash_evidence(host)])
