"""``crashkernel=`` values, parsed and checked as the kernel parses and reserves them.

Parsing follows kernel/crash_reserve.c (Linux 6.9+; kernel/crash_core.c before):
``parse_crashkernel`` takes the last plain ``crashkernel=`` (``SIZE[@OFFSET]`` or a
range list ``START-[END]:SIZE[,...][@OFFSET]``), and only where there is none, on the
architectures with the generic reservation (arm64, x86, riscv, loongarch),
``SIZE,high`` with an optional ``SIZE,low``; a ``,low`` alone reserves nothing. A size of
0, or one not below the system's RAM, is refused (-EINVAL). A range list is matched
against the RAM rounded up to 128 MiB (``parse_crashkernel_mem``). ``@0`` is no base:
the kernel chooses one (``if (crash_base)``).

``check_option`` applies what the kernel then does with a fixed base:

- arm64: the region is allocated with ``memblock_phys_alloc_range(size, CRASH_ALIGN,
  base, base + size)``, CRASH_ALIGN = 2 MiB (arch/arm64/include/asm/crash_reserve.h,
  "Current arm64 boot protocol requires 2MB alignment"), which cannot succeed for an
  unaligned base ("crashkernel reservation failed - memory is in use."; before 5.18
  arch/arm64/mm/init.c said "cannot reserve crashkernel: base address is not 2MB
  aligned"). kimage refuses it.
- ppc64: arch/powerpc/kexec/core.c ``reserve_crashkernel`` rounds the base up to
  PAGE_SIZE ("Crash kernel base must be aligned to 0x%lx") and the size too, and passes
  no ``,high`` to ``parse_crashkernel``. kimage reports the rounded region.

``SIZE,cma`` (Linux 6.17, "kdump: implement reserve_crashkernel_cma": ``SUFFIX_CMA`` in
kernel/crash_reserve.c) asks for CMA memory that the crash kernel may use as well; the
crash kernel and its initrd are still loaded into the plain (or ``,high``) region, and
only architectures that pass a ``cma_size`` reserve it (x86_64 from 6.17). Every kernel
that knows the suffix skips such a value when it looks for the plain ``crashkernel=``;
an older one takes it for a plain value it cannot parse ("unrecognized char: ,") and,
when it is the last, reserves nothing.

Addresses must fit the physical address space: 52 bits on arm64 (MAX_PHYSMEM_BITS =
CONFIG_ARM64_PA_BITS, at most 52; arch/arm64/include/asm/sparsemem.h), 51 on ppc64
(MAX_PHYSMEM_BITS 51 since 4.20, "Increase the max addressable memory to 2PB"), 64 on
others. The kernel's memparse() wraps a number that does not fit in 64 bits; kimage
refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from validator.loaders.versions import at_least

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
CRASH_ALIGN = {"arm64": 2 * MiB}
PHYS_BITS = {"arm64": 52, "ppc64": 51}
#: The first Linux release that knows ``crashkernel=SIZE,cma``.
CMA_SINCE = "6.17"
#: What a ``,cma`` value is, said beside it.
CMA_NOTE = ("CMA memory the crash kernel may use as well (Linux 6.17+, where the "
            "architecture reserves it: x86_64); kexec loads nothing there")
#: Architectures whose kernels read ``crashkernel=...,high`` / ``,low``
#: (CONFIG_ARCH_HAS_GENERIC_CRASHKERNEL_RESERVATION).
HIGH_LOW = {"arm64", "x86_64", "riscv64", "loongarch64"}
_SUFFIX = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": 1 << 40, "p": 1 << 50, "e": 1 << 60}
_NUMBER = re.compile(r"\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtTpPeE]?)\s*")


@dataclass
class CrashSpec:
    """One ``crashkernel=`` value, parsed as the kernel's parse_crashkernel() does."""

    text: str
    size: int | None  # None: a range list that matched no range, or unparsable
    base: int | None = None  # the @offset, when given
    kind: str = "size"  # size | ranges | high | low | cma


def memparse(text: str) -> int:
    """The kernel's memparse(): a C integer (0x.., 0.., decimal) and a K/M/G/T/P/E suffix."""
    m = _NUMBER.fullmatch(text)
    if not m:
        raise ValueError(f"not a size: {text!r}")
    number, suffix = m.groups()
    if number.lower().startswith("0x"):
        value = int(number, 16)
    elif number.startswith("0") and len(number) > 1:
        value = int(number, 8)
    else:
        value = int(number)
    value *= _SUFFIX[suffix.lower()]
    if value >= 1 << 64:
        raise ValueError(f"{text.strip()} does not fit in 64 bits")
    return value


def parse_crashkernel(text: str, mem_total: int | None = None) -> CrashSpec:
    """One ``crashkernel=`` value (without the ``crashkernel=``).

    Forms (Documentation/admin-guide/kdump/kdump.rst): ``SIZE[@OFFSET]``,
    ``RANGE:SIZE[,RANGE:SIZE...][@OFFSET]`` with RANGE ``START-[END]`` matched against
    the system's memory, ``SIZE,high``, ``SIZE,low`` and ``SIZE,cma``. ``ValueError``
    otherwise.
    """
    value = text.strip()
    if value.endswith((",high", ",low", ",cma")):
        body, _, kind = value.rpartition(",")
        return CrashSpec(text, memparse(body), None, kind)
    body, at, offset = value.partition("@")
    if at and not offset.strip():
        raise ValueError("expected a base address after '@'")
    base = memparse(offset) if at else None
    if ":" not in body:
        return CrashSpec(text, memparse(body), base, "size")
    total = None if mem_total is None else -(-mem_total // (128 * MiB)) * 128 * MiB
    size = None
    for item in body.split(","):
        span, colon, amount = item.partition(":")
        start_text, dash, end_text = span.partition("-")
        if not colon or not dash:
            raise ValueError(f"not START-[END]:SIZE: {item!r}")
        start = memparse(start_text)
        end = memparse(end_text) if end_text.strip() else None
        if end is not None and end <= start:
            raise ValueError(f"end <= start in {item!r}")
        amount_value = memparse(amount)
        if size is None and total is not None and total >= start and (
                end is None or total < end):
            size = amount_value
    return CrashSpec(text, size, base, "ranges")


def chosen(specs: list[CrashSpec], release: str | None) -> CrashSpec | None:
    """The kernel's choice among ``crashkernel=`` values (``release``: the running
    kernel's): the last plain one, else the last ,high one. A ,cma value is neither; a
    kernel older than CMA_SINCE takes it for a plain one it cannot parse, so when it is
    the last, the kernel's choice is nothing."""
    old = release is not None and not at_least(release, CMA_SINCE)
    plain = [c for c in specs if c.kind in ("size", "ranges") or (old and c.kind == "cma")]
    if plain and plain[-1].kind == "cma":
        return None
    high = [c for c in specs if c.kind == "high"]
    return (plain or high or [None])[-1]


def cma_note(release: str | None) -> str:
    """What a ``,cma`` value is to a kernel of ``release`` (None: unknown, taken as new)."""
    if release is not None and not at_least(release, CMA_SINCE):
        return (f"Linux {release} is older than {CMA_SINCE}: it reads this as a plain "
                f"crashkernel= it cannot parse ('unrecognized char: ,'), and reserves "
                f"nothing when it is the last one")
    return CMA_NOTE


@dataclass
class OptionRegion:
    size: int
    base: int | None
    notes: list[str]


def check_option(values: list[str], arch: str | None, mem_total: int | None,
                 page_size: int | None) -> OptionRegion:
    """The region ``--crashkernel`` describes, or ``ValueError`` with one line."""
    specs = [parse_crashkernel(v, mem_total) for v in values]
    plain = [s for s in specs if s.kind in ("size", "ranges")]
    high = [s for s in specs if s.kind == "high"]
    low = [s for s in specs if s.kind == "low"]
    cma = [s for s in specs if s.kind == "cma"]
    if len(plain) + len(high) > 1:
        raise ValueError("give one region: SIZE[@BASE], RANGES[@BASE] or SIZE,high "
                         "(with SIZE,low)")
    if not plain and not high:
        raise ValueError("SIZE,cma is memory the crash kernel may use, not the region it "
                         "is loaded into: give SIZE[@BASE], RANGES[@BASE] or SIZE,high "
                         "as well" if cma and not low else
                         "SIZE,low alone reserves nothing: the kernel reads it only "
                         "beside SIZE,high")
    if (high or low) and arch is not None and arch not in HIGH_LOW and arch != "unknown":
        raise ValueError(f"{arch} kernels do not read crashkernel=SIZE,high or ,low "
                         f"(no generic crashkernel reservation)")
    spec = (plain or high)[0]
    notes: list[str] = []
    if spec.size is None:
        raise ValueError("no range matches MemTotal" if mem_total else
                         "a range list needs MemTotal (/proc/meminfo), which is unknown")
    if spec.size == 0:
        raise ValueError("size 0 reserves nothing")
    if mem_total is not None and spec.size >= mem_total:
        raise ValueError(f"{spec.size:#x} bytes is not below MemTotal ({mem_total:#x}): "
                         f"the kernel refuses it")
    bits = PHYS_BITS.get(arch or "", 64)
    size, base = spec.size, spec.base
    if base == 0:
        base = None
        notes.append("@0 is no base: the kernel chooses one")
    if base is not None:
        if base + size > 1 << bits:
            raise ValueError(f"the region {base:#x}+{size:#x} ends beyond the {bits}-bit "
                             f"physical address space")
        align = CRASH_ALIGN.get(arch or "")
        if align and base % align:
            raise ValueError(f"base {base:#x} is not {align // MiB} MiB aligned: {arch} "
                             f"reserves a fixed base only at CRASH_ALIGN")
        if arch == "ppc64":
            page = page_size or 64 * KiB
            rounded = -(-base // page) * page
            if rounded != base:
                notes.append(f"the kernel rounds the base {base:#x} up to the page size: "
                             f"{rounded:#x}")
                base = rounded
    elif size > 1 << bits:
        raise ValueError(f"{size:#x} bytes does not fit the {bits}-bit physical address "
                         f"space")
    if arch == "ppc64":
        page = page_size or 64 * KiB
        size = -(-size // page) * page
    if high:
        notes.append("crashkernel=,high: the kernel chooses the base, above the low "
                     "memory limit where it can")
        if low:
            notes.append(f"crashkernel={low[-1].text.strip()} is the low part, for DMA; "
                         f"segments are placed in the high region")
    if cma:
        notes.append(f"crashkernel={cma[-1].text.strip()}: {CMA_NOTE}")
    return OptionRegion(size, base, notes)
