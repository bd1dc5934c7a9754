"""preflight on x86-64 hosts: where each loader puts an x86 bzImage's crash kernel
segments, and whether the kernel runs where it is put.

Placement, as the sources do it (every segment inside crashk_res, the "Crash kernel"
range of /proc/iomem; with ``crashkernel=X,high`` that is the range above 4 GiB, the
second, ``,low`` one is left for DMA):

- kexec-tools v2.0.25 to v2.0.32, bzImage64 (kexec/arch/x86_64/kexec-bzImage64.c
  do_bzImage64_load; kexec/arch/i386/crashdump-x86.c load_crashdump_segments): the
  backup of the first 640 KiB and the ELF core headers, then purgatory, the real-mode
  data with the command line (max(real-mode part, 4 KiB) + command line + 64 bytes),
  then the kernel: ALIGN(init_size, 4 KiB) bytes at a multiple of kernel_alignment at or
  above max(pref_address, 1 MiB), then the initrd; every one as high as it fits
  (add_buffer with buf_end -1). Checked against the real kexec-tools 2.0.25 `-p`
  (tests/test_preflight_x86.py): the kernel lands where this model says.
- kexec-tools, the 32-bit bzImage loader (kexec/arch/i386/kexec-bzImage.c
  do_bzImage_load; taken when bzImage64_probe refuses): the kernel as low as it fits from
  1 MiB, below min(0x37ffffff, initrd_addr_max) (DEFAULT_BZIMAGE_ADDR_MAX), so never in a
  region above 896 MiB; a kernel that is not relocatable is refused for ``-p``.
- kexec_file_load, Linux 6.1 (arch/x86/kernel/kexec-bzimage64.c bzImage64_load,
  crash.c crash_load_segments): the ELF core headers, purgatory, boot_params with the
  command line, the kernel (PAGE_ALIGN(init_size), kernel_alignment, at or above
  max(pref_address, MIN_KERNEL_LOAD_ADDR 1 MiB)), the initrd; top down.

A bzImage whose relocatable_kernel is 0 is decompressed to LOAD_PHYSICAL_ADDR
(pref_address) wherever it was loaded (arch/x86/boot/compressed/head_64.S: without
CONFIG_RELOCATABLE the output address is LOAD_PHYSICAL_ADDR): over the crashed kernel,
unless the crash region starts there.
"""

from __future__ import annotations

from validator.kdump.host import Evidence, Host, KiB, MiB
from validator.kdump.model import Step, img_ev
from validator.kdump.placement import ALLOWANCES, _Seg, crash_evidence, fit
from validator.model import ImageResult

ARCHES = ("x86_64", "x86")
#: The low memory kexec-tools copies aside for the capture kernel (get_backup_area: the
#: System RAM range below 640 KiB).
BACKUP = 640 * KiB
KERN32_BASE = 0x100000  # MIN_KERNEL_LOAD_ADDR / KERN32_BASE
BZIMAGE32_MAX = 0x37FFFFFF  # DEFAULT_BZIMAGE_ADDR_MAX
PURGATORY_CMDLINE_SIZE = 64
#: kexec_file_load's boot_params segment: struct boot_params (4 KiB), the command line,
#: the elfcorehdr= it appends and the EFI and RNG setup_data: an allowance.
BOOT_PARAMS = 16 * KiB


def bzimage64(result: ImageResult) -> bool:
    """True when both bzImage64 probes take the image (protocol 2.12, XLF_KERNEL_64 and
    XLF_CAN_BE_LOADED_ABOVE_4G)."""
    h = result.header
    return (h.get("version", 0) >= 0x020C and bool(h.get("xlf_kernel_64"))
            and bool(h.get("xlf_can_be_loaded_above_4g")))


def segments(result: ImageResult, host: Host, loader: str, base: int,
             initrd_size: int) -> tuple[list[_Seg], list[Evidence]] | str:
    """The segments ``loader`` asks for, in its order (placement.step_fit's contract)."""
    h, facts = result.header, result.facts
    init = facts.get("init_size")
    setup = h.get("setup_size") or 0
    if init is None:  # protocol before 2.10: the file's protected-mode part
        init = max((result.payload_size or result.file_size or 0) - setup, 0)
    align = facts.get("kernel_alignment") or 2 * MiB
    low = max(facts.get("pref_address") or 0, KERN32_BASE)
    ev = [img_ev("facts.init_size", init), img_ev("facts.kernel_alignment", align),
          img_ev("facts.pref_address", facts.get("pref_address")),
          img_ev("header.setup_size", setup)]
    core = ALLOWANCES["elfcorehdr"]
    cmdline = (h.get("cmdline_size") or 255) + 1
    kernel_why = (f"ALIGN(init_size, 4 KiB) at a multiple of kernel_alignment, at or above "
                  f"{low:#x}")
    if loader == "kexec-file":
        segs = [_Seg("elfcorehdr", core, 0, "top-down", why="allowance"),
                _Seg("purgatory", ALLOWANCES["purgatory"], 0, "top-down", why="allowance"),
                _Seg("boot_params", BOOT_PARAMS, 16, "top-down",
                     why="struct boot_params, the command line and setup_data: allowance"),
                _Seg("kernel", init, align, "top-down", min_addr=low, why=kernel_why)]
    elif bzimage64(result):
        segs = [_Seg("backup", BACKUP, 0, "top-down", why="the first 640 KiB, copied aside"),
                _Seg("elfcorehdr", core, 0, "top-down", why="allowance"),
                _Seg("purgatory", ALLOWANCES["purgatory"], 0, "top-down", why="allowance"),
                _Seg("real-mode", max(setup, 4 * KiB) + cmdline + PURGATORY_CMDLINE_SIZE, 16,
                     "top-down", why="the real-mode part and the command line"),
                _Seg("kernel", init, align, "top-down", min_addr=low, why=kernel_why)]
    else:
        segs = [_Seg("backup", BACKUP, 0, "top-down", why="the first 640 KiB, copied aside"),
                _Seg("elfcorehdr", core, 0, "top-down", why="allowance"),
                _Seg("kernel", init, align, "bottom-up", min_addr=KERN32_BASE,
                     why="the 32-bit bzImage loader: as low as it fits, below "
                         f"{BZIMAGE32_MAX:#x}"),
                _Seg("real-mode", max(setup, 4 * KiB) + cmdline + PURGATORY_CMDLINE_SIZE, 16,
                     "bottom-up", why="the real-mode part and the command line"),
                _Seg("purgatory", ALLOWANCES["purgatory"], 0, "bottom-up", why="allowance")]
    if initrd_size:
        segs.append(_Seg("initrd", initrd_size, 0, "top-down", why="the initrd, as high as "
                         "it fits"))
    return segs, ev


def step_fit(result: ImageResult, host: Host, loader: str, initrd_size: int) -> Step:
    c = host.crash
    if c is None:
        return Step("fit", "skip", "no crash region to fit into")

    def below_4g(kernel: tuple, assumed: bool, ev: list) -> Step | None:
        if (loader == "kexec-tools" and not bzimage64(result) and not assumed
                and kernel[1] + kernel[2] - 1 > BZIMAGE32_MAX):
            return Step("fit", "fail", f"the 32-bit bzImage loader places the kernel below "
                        f"{BZIMAGE32_MAX + 1:#x}; the crash region ends at {c.end:#x} and the "
                        f"kernel would end at {kernel[1] + kernel[2] - 1:#x}", ev,
                        "preflight/does-not-fit")
        return None

    # x86 CRASH_ALIGN: an unknown base is taken as 16 MiB
    return fit(result, host, loader, initrd_size, segments,
               page=host.page_size or 4 * KiB, default_base=0x1000000,
               base_note="a 16 MiB-aligned base", first_ev=[crash_evidence(host)],
               check=below_4g)


def step_relocatable(result: ImageResult, host: Host, loader: str) -> Step:
    h, facts = result.header, result.facts
    ev = [img_ev("header.relocatable_kernel", h.get("relocatable_kernel")),
          img_ev("facts.pref_address", facts.get("pref_address"))]
    if facts.get("relocatable"):
        return Step("relocatable", "pass", "relocatable (relocatable_kernel 1): the kernel "
                    "runs where it is loaded", ev)
    if loader == "kexec-tools" and not bzimage64(result):
        return Step("relocatable", "fail", "not relocatable: kexec-tools' 32-bit bzImage "
                    "loader refuses it for -p ('BzImage is not relocatable. Can't be used "
                    "as capture kernel.')", ev, "preflight/not-relocatable")
    target = facts.get("pref_address") or KERN32_BASE
    base = host.crash.base if host.crash else None
    if base is not None and base == target:
        return Step("relocatable", "pass", f"not relocatable, but it runs at {target:#x}, "
                    f"the crash region's base (a dedicated kdump kernel)", ev)
    return Step("relocatable", "fail", f"not relocatable: the kernel decompresses itself "
                f"to {target:#x} (LOAD_PHYSICAL_ADDR) wherever it is loaded, over the "
                "crashed kernel's memory", ev, "preflight/not-relocatable")
