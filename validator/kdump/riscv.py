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
from validator.kdump.model import Step, align_up, img_ev
from validator.kdump.placement import ALLOWANCES, _dtb_size, _place, _Seg
from validator.model import ImageResult
from validator.units import human_size

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
    c = host.crash
    if c is None:
        return Step("fit", "skip", "no crash region to fit into")
    page = host.page_size or 4 * KiB
    assumed = c.base is None
    base = c.base if c.base is not None else 0  # an offset from an unknown base
    built = segments(result, host, loader, base, initrd_size)
    if isinstance(built, str):
        return Step("fit", "skip", built)
    segs, ev = built
    ev.append(Evidence("host:crash", f"{base:#x}-{base + c.size - 1:#x}" if not assumed
                       else f"{human_size(c.size)}, base unknown", "crashk_res"))
    if initrd_size:
        ev.append(Evidence("initrd", str(initrd_size), "bytes"))
    placed, failed = _place(base, base + c.size, segs, page)

    def at(addr: int) -> str:
        return f"region+{addr - base:#x}" if assumed else f"{addr:#x}"

    for seg, addr, size in placed:
        ev.append(Evidence(f"placed:{seg.name}", f"{at(addr)}, {human_size(size)}", seg.why))
    note = " (base unknown: offsets from a text_offset-aligned base)" if assumed else ""
    if failed is not None:
        need = sum(align_up(s.size, page) for s in segs)
        return Step("fit", "fail", f"the {failed.name} ({human_size(failed.size)}) does not "
                    f"fit: {human_size(c.size)} region, the segments need {human_size(need)} "
                    f"before alignment{note}", ev, "preflight/does-not-fit")
    kernel = next(p for p in placed if p[0].name == "kernel")
    used = sum(p[2] for p in placed)
    free = c.size - used
    message = (f"kernel at {at(kernel[1])}; {len(placed)} segments, {human_size(used)} of "
               f"{human_size(c.size)}, {human_size(free)} left{note}")
    if free < ALLOWANCES["run_floor"]:
        return Step("fit", "warn", message + f": less than {human_size(ALLOWANCES['run_floor'])}"
                    f" for the capture kernel to run in", ev, "preflight/little-memory-left")
    return Step("fit", "pass", message, ev)
