"""A recommended crash reservation, justified line by line.

What the capture kernel needs in its region, in the order it needs it:

1. the segments the loader places (validator.kdump.placement, as placed for this
   loader): the kernel (arm64 image_size + text_offset from the header; ppc64 the
   PT_LOAD span), the packed initrd, the dtb, the ELF core header, purgatory (and the
   ppc64 backup region);
2. the initramfs unpacked into tmpfs (init/initramfs.c unpack_to_rootfs; every regular
   file rounded up to a page; validator.kdump.initramfs decodes it, bounded);
3. a runtime floor: page tables, slab, the dump tool's working memory
   (``placement.ALLOWANCES["run_floor"]``, 64 MiB);
4. per CPU the capture kernel brings up, 1 MiB (per-CPU areas, stacks): the count is
   nr_cpus=/maxcpus= of its command line, else every possible CPU of the host
   (/sys/devices/system/cpu/possible). kdump-utils uses the same 1 MiB per CPU for
   ppc64le (kdump-lib.sh kdump_get_arch_recommend_crashkernel, "1MB per CPU").

The sum is rounded up to a whole MiB (crashkernel= takes M).

How this differs from ``kdumpctl estimate`` (kdump-utils v1.0.61 kdumpctl do_estimate):
kdumpctl adds kernel_size + module sizes + 3 x the packed initrd + 16 MiB, and takes the
larger of that and its RAM-based table. It reads kernel_size from the decompressed
vmlinux's ELF or, for an arm64 Image or zboot (no ELF inside), from the *running*
kernel's "Kernel code/data" in /proc/iomem; kimage reads the image's own image_size +
text_offset, which is what the loader reserves. kdumpctl's 3 x packed initrd stands for
the packed file, the unpacked files and tmpfs slack; kimage decodes the initrd and
counts the packed file and the unpacked files as they are. kdumpctl's 16 MiB runtime
is kimage's 64 MiB floor (kimage warns below it already). Loaded module sizes
(/proc/modules) are not read: the modules a dump initramfs loads are inside its
unpacked size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from validator.kdump.cmdline import cpus_asked
from validator.kdump.host import Evidence, Host, MiB
from validator.kdump.model import Step
from validator.kdump.placement import ALLOWANCES, _place, _segments
from validator.model import ImageResult
from validator.units import human_size

PER_CPU = 1 * MiB


@dataclass
class Recommendation:
    size: int
    lines: list[tuple[str, int, str]] = field(default_factory=list)  # (what, bytes, why)

    @property
    def option(self) -> str:
        return f"crashkernel={self.size // MiB}M"

    def to_dict(self) -> dict:
        return {"size": self.size, "crashkernel": self.option,
                "lines": [{"what": w, "bytes": b, "why": y} for w, b, y in self.lines]}


def possible_cpus(text: str | None) -> int | None:
    """The count in /sys/devices/system/cpu/possible ("0-63", "0,2-5")."""
    if not text:
        return None
    count = 0
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            return None
        count += (int(hi) - int(lo) + 1) if hi else 1
    return count if 0 < count <= 1 << 16 else None


def recommend(result: ImageResult, host: Host, loader: str, initrd: dict | None,
              cmdline: str | None, host_cpus: int | None) -> Recommendation | None:
    arch = result.facts.get("arch")
    if arch not in ("arm64", "ppc64", "x86_64", "x86", "riscv64"):
        return None
    size = initrd["size"] if initrd else 0
    if arch in ("x86_64", "x86"):
        from validator.kdump import x86

        built = x86.segments(result, host, loader, 0, size)
    elif arch == "riscv64":
        from validator.kdump import riscv

        built = riscv.segments(result, host, loader, 0, size)
    else:
        built = _segments(result, host, loader, 0, size)
    if isinstance(built, str):
        return None
    segs, _ = built
    page = host.page_size or 4096
    placed, failed = _place(0, 1 << 62, segs, page)
    if failed is not None:
        return None
    rec = Recommendation(0)
    for seg, _, seg_size in placed:
        rec.lines.append((f"segment {seg.name}", seg_size, seg.why))
    unpacked = (initrd or {}).get("unpacked")
    if unpacked:
        rec.lines.append(("initramfs unpacked", unpacked,
                          "its files in tmpfs, page-rounded; decoded, bounded"))
    rec.lines.append(("runtime floor", ALLOWANCES["run_floor"],
                      "page tables, slab, the dump tool (a floor)"))
    cpus = cpus_asked(cmdline or "")
    why = "nr_cpus=/maxcpus= of the capture line"
    if cpus is None:
        cpus, why = host_cpus or 1, ("every possible CPU (no nr_cpus=)" if host_cpus
                                     else "1 CPU assumed (possible CPUs unknown)")
    rec.lines.append((f"per-CPU x {cpus}", cpus * PER_CPU, f"1 MiB each; {why}"))
    total = sum(b for _, b, _ in rec.lines)
    rec.size = (total + MiB - 1) // MiB * MiB
    return rec


def step_reservation(rec: Recommendation | None, host: Host) -> Step:
    if rec is None:
        return Step("reservation", "skip", "no recommendation for this image")
    ev = [Evidence(f"need:{w}", human_size(b), y) for w, b, y in rec.lines]
    ev.append(Evidence("recommend", rec.option, f"sum {human_size(rec.size)}, whole MiB"))
    c = host.crash
    if c is None:
        return Step("reservation", "skip", f"nothing reserved; recommend {rec.option}", ev)
    option = rec.option
    if any(spec.kind == "high" for spec in host.crashkernel) and host.arch in (
            "arm64", "x86_64", "riscv64"):
        # the region above 4 GiB is the one the capture kernel runs in; the ,low part
        # (DEFAULT_CRASH_KERNEL_LOW_SIZE, 128 MiB, unless ,low says otherwise) is for
        # DMA and swiotlb (Linux include/linux/crash_reserve.h; arm64 mm/init.c in 6.1)
        option = f"{rec.option},high (and ,low as now)"
    message = f"reserved {human_size(c.size)}; recommend {option}"
    if c.size < rec.size:
        return Step("reservation", "warn", message + f" ({human_size(rec.size - c.size)} "
                    "more)", ev, "preflight/reservation-below-recommended")
    return Step("reservation", "pass", message, ev)
