"""Where each loader puts the crash kernel's segments, and whether they fit the region.

kexec-tools v2.0.x (``kexec/arch/arm64/kexec-arm64.c`` arm64_locate_kernel_segment,
``kexec/arch/ppc64/kexec-elf-ppc64.c``, ``locate_hole``) and Linux 6.1 kexec_file_load
(``arch/arm64/kernel/kexec_image.c`` + ``machine_kexec_file.c``, ``arch/powerpc/kexec/
elf_64.c`` + ``file_load_64.c``, ``kernel/kexec_file.c`` kexec_add_buffer). What the
image is and whether the loader takes it is validator.loaders' answer, not this module's:
this one holds only what depends on the host (the region, its base, the page size).
Sizes kimage cannot read without root are allowances, stated in ``ALLOWANCES``.
"""

from __future__ import annotations

from dataclasses import dataclass

from validator.kdump.host import Evidence, Host, KiB, MiB
from validator.kdump.model import Step, align_down, align_up, elf_loads, img_ev
from validator.model import ImageResult
from validator.units import human_size

#: Sizes kimage cannot read without root, and why these values.
ALLOWANCES = {
    # An Elf64_Ehdr plus one 56-byte program header per CPU, memory range and the
    # vmcoreinfo note: 64 KiB holds more than 1,100 of them, and arm64 kexec_file_load
    # aligns the segment to 64 KiB anyway (machine_kexec_file.c, SZ_64K).
    "elfcorehdr": 64 * KiB,
    # The dtb the loader builds from the running one plus the kdump properties
    # (linux,usable-memory-range, linux,elfcorehdr, bootargs, initrd): /sys/firmware/fdt
    # (root only) + 64 KiB when readable; otherwise 1 MiB. Typical dtbs are tens to a few
    # hundred KiB; kexec-tools refuses one over 2 MiB ("dtb too big"). ppc64 LPARs with
    # many memory blocks build bigger ones: use --crashkernel margins there.
    "dtb": 1 * MiB,
    "dtb_extra": 64 * KiB,
    # arm64 kexec-tools packs the dtb it builds (setup_2nd_dtb and dtb_set_property end
    # in fdt_pack; v2.0.29 kexec/arch/arm64/kexec-arm64.c, kexec/dt-ops.c): the segment
    # is the packed running dtb plus the properties it sets (bootargs, at most
    # COMMAND_LINE_SIZE 2048 on arm64, linux,elfcorehdr, linux,usable-memory-range,
    # linux,initrd-start/-end). QEMU's virt dtb is 1 MiB with 7.5 KiB used; the dtb
    # segment kexec -p placed for it was 7762 bytes (loadertruth/kdump-guest-results.json).
    "dtb_props": 4 * KiB,
    # kexec-tools' purgatory (an ELF relocatable with a sha256 check and a stack, tens of
    # KiB); ppc64 kexec_file_load loads one too; arm64 kexec_file_load none.
    "purgatory": 64 * KiB,
    # ppc64: the first 64 KiB of memory, copied by purgatory before the capture kernel
    # overwrites its vectors (BACKUP_SRC_SIZE, KDUMP_RESERVE_LIMIT 0x10000).
    "backup": 64 * KiB,
    # What the capture kernel needs beyond its image to boot and run makedumpfile
    # (page tables, slab, the unpacked initramfs): kimage warns below this floor. It is
    # a floor, not a guarantee; distributions reserve far more (Fedora's
    # crashkernel= defaults start at 192 MiB on arm64).
    "run_floor": 64 * MiB,
}

ARM64_KIMG_ALIGN = 2 * MiB  # MIN_KIMG_ALIGN; kexec-tools _ALIGN_UP(hole, MiB(2))
PPC64_RELOC_ALIGN = 16 * KiB  # RELOCATABLE help: a 16 KiB-aligned base
DEFAULT_PAGE = {"arm64": 4 * KiB, "ppc64": 64 * KiB}


@dataclass
class _Seg:
    name: str
    size: int
    align: int
    mode: str  # fixed | bottom-up | top-down
    at: int | None = None
    min_addr: int | None = None
    why: str = ""


def _place(start: int, end: int, segs: list[_Seg], page: int):
    """Place segments in [start, end) as kexec_add_buffer / locate_hole do.

    Returns (placed [(seg, addr, size)], failed seg or None)."""
    placed: list[tuple[_Seg, int, int]] = []

    def clash(addr: int, size: int):
        return next((p for p in placed if addr < p[1] + p[2] and p[1] < addr + size), None)

    for seg in segs:
        size = align_up(max(seg.size, 1), page)
        align = max(seg.align, page)
        low = max(start, seg.min_addr or start)
        if seg.mode == "fixed":
            addr = seg.at
            if addr < start or addr + size > end or clash(addr, size):
                return placed, seg
        elif seg.mode == "bottom-up":
            addr = align_up(low, align)
            while (hit := clash(addr, size)) is not None:
                addr = align_up(hit[1] + hit[2], align)
            if addr + size > end:
                return placed, seg
        else:
            addr = align_down(end - size, align)
            while addr >= low and (hit := clash(addr, size)) is not None:
                addr = align_down(hit[1] - size, align)
            if addr < low:
                return placed, seg
        placed.append((seg, addr, size))
    return placed, None


def _kernel_pages(host: Host) -> list[_Seg]:
    """The pages the kernel itself takes from the crash region once the segments are in
    it, each the first page-aligned hole from the region's start that no segment
    overlaps (kimage_alloc_crash_control_pages): the control code page
    (KEXEC_CONTROL_PAGE_SIZE, 4096 on arm64: one page; kimage_alloc_init /
    kimage_file_alloc_init, "kexec: Could not allocate control_code_buffer") and the
    page vmcoreinfo is copied to (kimage_crash_copy_vmcoreinfo, "crash_core: Could not
    allocate vmcoreinfo buffer"); without either the load fails with ENOMEM (Linux
    v6.12 kernel/kexec_core.c, kernel/crash_core.c). Measured with Debian 13's kernel
    (loadertruth/kdump-guest-results.json): kexec-tools' five segments filled
    crashkernel=38M to the last page and the load was refused for the control page;
    38M + 4 KiB for the vmcoreinfo page."""
    page = host.page_size or DEFAULT_PAGE["arm64"]
    return [_Seg("control page", page, page, "bottom-up",
                 why="the kernel's control code page (kimage_alloc_crash_control_pages)"),
            _Seg("vmcoreinfo page", page, page, "bottom-up",
                 why="the kernel's copy of vmcoreinfo (kimage_crash_copy_vmcoreinfo)")]


def _dtb_size(host: Host, packs: bool = False) -> tuple[int, str]:
    if packs and host.fdt_packed:
        return host.fdt_packed + ALLOWANCES["dtb_props"], \
            (f"/sys/firmware/fdt packed ({host.fdt_packed} of {host.fdt_size} bytes: kexec-"
             "tools fdt_packs it) + 4 KiB of kdump properties and bootargs")
    if host.fdt_size:
        return host.fdt_size + ALLOWANCES["dtb_extra"], \
            f"/sys/firmware/fdt ({host.fdt_size} bytes) + 64 KiB of kdump properties"
    return ALLOWANCES["dtb"], "allowance: /sys/firmware/fdt not readable (root only)"


def _segments(result: ImageResult, host: Host, loader: str, base: int,
              initrd_size: int) -> tuple[list[_Seg], list[Evidence]] | str:
    arch = result.facts.get("arch")
    dtb, dtb_why = _dtb_size(host, packs=arch == "arm64" and loader == "kexec-tools")
    ev: list[Evidence] = []
    segs: list[_Seg] = []
    core = ALLOWANCES["elfcorehdr"]
    if arch == "arm64":
        image_size = result.facts.get("image_size") or 0
        text_offset = result.facts.get("text_offset") or 0
        if image_size == 0:
            if loader == "kexec-file":
                return "image_size 0: kexec_file_load refuses the image"
            text_offset, image_size = 0x80000, 16 * MiB
            ev.append(Evidence("kexec-tools", "image_size 0: text_offset 0x80000, 16 MiB "
                               "assumed (arm64_process_image_header)"))
        ev += [img_ev("facts.image_size", image_size), img_ev("facts.text_offset", text_offset),
               img_ev("facts.placement", result.facts.get("placement"))]
        kernel = image_size + text_offset
        if loader == "kexec-file":
            segs = [
                _Seg("kernel", kernel, ARM64_KIMG_ALIGN, "bottom-up",
                     why="image_size + text_offset, 2 MiB aligned (MIN_KIMG_ALIGN)"),
                _Seg("elfcorehdr", core, 64 * KiB, "top-down", why="allowance, 64 KiB aligned"),
            ]
            if initrd_size:
                segs.append(_Seg("initrd", initrd_size, 0, "bottom-up", why="the initrd"))
            segs.append(_Seg("dtb", dtb, 2 * MiB, "top-down",
                             why=f"{dtb_why}; 2 MiB aligned, never across a 2 MiB boundary"))
        else:
            hole = align_up(base, ARM64_KIMG_ALIGN)
            after = hole + kernel
            segs = [
                _Seg("elfcorehdr", core, 0, "top-down", why="allowance, at the region's top"),
                _Seg("kernel", kernel, ARM64_KIMG_ALIGN, "fixed", at=hole,
                     why="image_size + text_offset at the region base rounded up to 2 MiB "
                         "(arm64_locate_kernel_segment)"),
            ]
            if initrd_size:
                segs.append(_Seg("initrd", initrd_size, 0, "bottom-up", min_addr=after,
                                 why="the initrd, after the kernel"))
            segs += [
                _Seg("dtb", dtb, 0, "bottom-up", min_addr=after, why=dtb_why),
                _Seg("purgatory", ALLOWANCES["purgatory"], 0, "bottom-up", min_addr=after,
                     why="allowance"),
            ]
        segs += _kernel_pages(host)
        return segs, ev
    loads = elf_loads(result)
    if not loads:
        return "no PT_LOAD to place"
    first = loads[0]
    span = max(ld["paddr"] + ld["memsz"] for ld in loads) - first["paddr"]
    span = max(span, first["memsz"])
    ev += [img_ev("elf.loads[0].p_memsz", first["memsz"]), img_ev("elf.loads[0].p_align",
                                                              first["align"])]
    if len(loads) > 1:
        ev.append(img_ev("elf.PT_LOAD span", span))
    kernel_align = (first["align"] or 0) if loader == "kexec-file" else 0
    segs = [_Seg("kernel", span, kernel_align, "bottom-up",
                 why="PT_LOAD memsz" + (", p_align" if loader == "kexec-file" else
                                        ", first page-aligned hole (locate_hole)"))]
    segs += [
        _Seg("backup", ALLOWANCES["backup"], 0, "bottom-up", why="first 64 KiB of memory"),
        _Seg("elfcorehdr", core, 0, "bottom-up", why="allowance"),
    ]
    if loader == "kexec-tools":
        segs.append(_Seg("purgatory", ALLOWANCES["purgatory"], 0, "bottom-up",
                         why="allowance"))
    if initrd_size:
        segs.append(_Seg("initrd", initrd_size, 0, "bottom-up", why="the initrd"))
    segs.append(_Seg("dtb", dtb, 0, "top-down", why=dtb_why))
    if loader == "kexec-file":
        segs.append(_Seg("purgatory", ALLOWANCES["purgatory"], 0, "top-down",
                         why="allowance"))
    return segs, ev


def step_fit(result: ImageResult, host: Host, loader: str, initrd_size: int) -> Step:
    c = host.crash
    arch = result.facts.get("arch")
    if c is None:
        return Step("fit", "skip", "no crash region to fit into")
    if arch in ("x86_64", "x86"):
        from validator.kdump import x86

        return x86.step_fit(result, host, loader, initrd_size)
    if arch == "riscv64":
        from validator.kdump import riscv

        return riscv.step_fit(result, host, loader, initrd_size)
    if arch not in ("arm64", "ppc64"):
        return Step("fit", "skip", "unknown architecture")
    page = host.page_size or DEFAULT_PAGE[arch]

    def aligned(kernel: tuple, assumed: bool, ev: list) -> Step | None:
        if arch == "ppc64" and kernel[1] % PPC64_RELOC_ALIGN and not assumed:
            return Step("fit", "fail", f"the kernel would start at {kernel[1]:#x}, not 16 "
                        f"KiB aligned", ev, "preflight/placement-unaligned")
        return None

    # An unknown base is one the kernel chose: arm64 reserves crashkernel= 2 MiB aligned
    # (CRASH_ALIGN); ppc64 page aligned. Offsets are then relative to the region.
    return fit(result, host, loader, initrd_size, _segments, page=page, default_base=0,
               base_note="a 2 MiB-aligned base", first_ev=[Evidence(
                   "host:page_size", str(page), "segment sizes round up to it")],
               check=aligned,
               note=("; kexec_file_load also keeps segments below the RMA, not read here"
                     if arch == "ppc64" and loader == "kexec-file" else ""))


def crash_evidence(host: Host) -> Evidence:
    """The crash region as the fit step names it: its range, or its size when the base is
    unknown."""
    c = host.crash
    return Evidence("host:crash", f"{c.base:#x}-{c.base + c.size - 1:#x}" if c.base is not None
                    else f"{human_size(c.size)}, base unknown", "crashk_res")


def fit(result: ImageResult, host: Host, loader: str, initrd_size: int, segments, *,
        page: int, default_base: int, base_note: str, first_ev: list[Evidence],
        check=None, note: str = "") -> Step:
    """The fit step every architecture shares: the segments ``segments(result, host,
    loader, base, initrd_size)`` gives (or why none: a skip) placed in the crash region as
    the loader places them (``_place``); the first that does not fit fails
    (``preflight/does-not-fit``); less than the runtime floor left warns
    (``preflight/little-memory-left``). ``check(kernel, assumed, ev)``: the architecture's
    own refusal of where the kernel lands (a failing Step), or None. An unknown region base
    is ``default_base``, and places are then offsets from it (``base_note`` says from what)."""
    c = host.crash
    assumed = c.base is None
    base = c.base if c.base is not None else default_base
    built = segments(result, host, loader, base, initrd_size)
    if isinstance(built, str):
        return Step("fit", "skip", built)
    segs, ev = built
    ev += first_ev
    if initrd_size:
        ev.append(Evidence("initrd", str(initrd_size), "bytes"))
    placed, failed = _place(base, base + c.size, segs, page)

    def at(addr: int) -> str:
        return f"region+{addr - base:#x}" if assumed else f"{addr:#x}"

    for seg, addr, size in placed:
        ev.append(Evidence(f"placed:{seg.name}", f"{at(addr)}, {human_size(size)}", seg.why))
    unknown = f" (base unknown: offsets from {base_note})" if assumed else ""
    if failed is not None:
        need = sum(align_up(s.size, page) for s in segs)
        return Step("fit", "fail",
                    f"the {failed.name} ({human_size(failed.size)}) does not fit: "
                    f"{human_size(c.size)} region, the segments need {human_size(need)} "
                    f"before alignment{unknown}", ev, "preflight/does-not-fit")
    kernel = next(p for p in placed if p[0].name == "kernel")
    refused = check(kernel, assumed, ev) if check is not None else None
    if refused is not None:
        return refused
    used = sum(p[2] for p in placed)
    free = c.size - used
    message = (f"kernel at {at(kernel[1])}; {len(placed)} segments, {human_size(used)} of "
               f"{human_size(c.size)}, {human_size(free)} left{unknown}{note}")
    if free < ALLOWANCES["run_floor"]:
        return Step("fit", "warn", message + f": less than {human_size(ALLOWANCES['run_floor'])}"
                    f" for the capture kernel to run in", ev, "preflight/little-memory-left")
    return Step("fit", "pass", message, ev)
