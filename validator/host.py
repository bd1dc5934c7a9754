"""What a host offers a crash kernel, read from ``/proc`` and ``/sys`` or a sysroot.

``read_host(root)`` reads a running system (``root="/"``) or a directory tree laid out
like ``/`` (``--sysroot``). It never writes, never needs root, and keeps for every
value the file it came from and the text it read (``Evidence``), so that a verdict can
always be traced to a file.

Files read (all relative to ``root``):

=========================================================  ==================================
``/proc/sys/kernel/arch``                                  ``uname -m`` (recent kernels)
``/proc/sys/kernel/osrelease``                             release; its flavour suffix is the
                                                           last resort for the arch
``/proc/iomem``                                            "Crash kernel" ranges (zeros
                                                           without CAP_SYS_ADMIN)
``/sys/kernel/kexec_crash_size``                           size of crashk_res, readable by all
``/proc/cmdline``                                          ``crashkernel=``
``/proc/meminfo``                                          MemTotal, for ``crashkernel=`` ranges
``/proc/self/smaps``                                       KernelPageSize: the running kernel's
                                                           page size
``/sys/devices/system/cpu/cpu0/regs/identification/``      ``id_aa64mmfr0`` if present (see
                                                           below), ``midr_el1``
``/proc/cpuinfo``                                          ppc64 ``cpu`` line
``/proc/sys/kernel/kexec_load_disabled``                   1: both kexec syscalls refused
``/proc/sys/kernel/kexec_load_limit_panic``                6.6+: crash loads left (-1: any)
``/sys/kernel/security/lockdown``                          ``[none]``/``[integrity]``/...
``/sys/firmware/efi/efivars/SecureBoot-8be4df61-...``      EFI Secure Boot state
``/proc/device-tree/ibm,secureboot/os-secureboot-enforcing``  ppc64 Secure Boot
``/sys/kernel/kexec_crash_loaded``                         a crash kernel is loaded
``/boot/config-<osrelease>``                               CONFIG_KEXEC, CONFIG_KEXEC_FILE,
                                                           CONFIG_KEXEC_SIG, ...
=========================================================  ==================================

``id_aa64mmfr0``: mainline Linux exposes only ``midr_el1``, ``revidr_el1`` (and
``smidr_el1``) under ``regs/identification`` (arch/arm64/kernel/cpuinfo.c, 6.1 to 6.18);
user space cannot read ID_AA64MMFR0_EL1's granule fields either (the MRS emulation of
Documentation/arm64/cpu-feature-registers.rst hides them). kimage reads the file when a
kernel or a sysroot provides it (fixtures do); otherwise the granules are unknown and
only the running kernel's own page size is known to work.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from validator.targets import Target

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

P_ARCH = "/proc/sys/kernel/arch"
P_OSRELEASE = "/proc/sys/kernel/osrelease"
P_IOMEM = "/proc/iomem"
P_CRASH_SIZE = "/sys/kernel/kexec_crash_size"
P_CRASH_LOADED = "/sys/kernel/kexec_crash_loaded"
P_CMDLINE = "/proc/cmdline"
P_MEMINFO = "/proc/meminfo"
P_SMAPS = "/proc/self/smaps"
P_CPUINFO = "/proc/cpuinfo"
P_IDREGS = "/sys/devices/system/cpu/cpu0/regs/identification"
P_MMFR0 = P_IDREGS + "/id_aa64mmfr0"
P_MIDR = P_IDREGS + "/midr_el1"
P_LOAD_DISABLED = "/proc/sys/kernel/kexec_load_disabled"
P_LIMIT_PANIC = "/proc/sys/kernel/kexec_load_limit_panic"
P_LOCKDOWN = "/sys/kernel/security/lockdown"
P_EFI_SECUREBOOT = ("/sys/firmware/efi/efivars/"
                    "SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0330c0ff")
P_PPC_SECUREBOOT = "/proc/device-tree/ibm,secureboot/os-secureboot-enforcing"
P_FDT = "/sys/firmware/fdt"

#: ``uname -m`` → (arch, byte order), as ``kimage --target`` names them.
MACHINES = {
    "aarch64": ("arm64", "little"),
    "arm64": ("arm64", "little"),
    "aarch64_be": ("arm64", "big"),
    "ppc64": ("ppc64", "big"),
    "ppc64le": ("ppc64", "little"),
}

#: Release-name suffixes distributions give their kernel flavours (Debian, Fedora, SUSE).
_RELEASE_SUFFIXES = (
    ("-powerpc64le", "ppc64le"), (".ppc64le", "ppc64le"), ("-ppc64le", "ppc64le"),
    ("-powerpc64", "ppc64"), (".ppc64", "ppc64"), ("-ppc64", "ppc64"),
    ("-arm64", "aarch64"), (".aarch64", "aarch64"), ("-aarch64", "aarch64"),
    ("-64k", "aarch64"), ("-arm64-16k", "aarch64"),
)

#: Kernel options that decide which kexec syscalls exist and what they demand.
CONFIG_KEYS = ("CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_KEXEC_SIG",
               "CONFIG_KEXEC_SIG_FORCE", "CONFIG_KEXEC_IMAGE_VERIFY_SIG", "CONFIG_CRASH_DUMP",
               "CONFIG_IMA_ARCH_POLICY")


class HostError(Exception):
    """The sysroot or an option describing the host cannot be used."""


@dataclass(frozen=True)
class Evidence:
    """A value and where it was read: a host file, an option, or the image."""

    file: str
    value: str
    note: str = ""

    def to_dict(self) -> dict:
        out = {"file": self.file, "value": self.value}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class CrashSpec:
    """One ``crashkernel=`` value, parsed as the kernel's parse_crashkernel() does."""

    text: str
    size: int | None  # None: a range list that matched no range, or unparsable
    base: int | None = None  # the @offset, when given
    kind: str = "size"  # size | ranges | high | low


@dataclass
class CrashRegion:
    """The reservation a crash kernel is loaded into (crashk_res)."""

    size: int
    base: int | None  # None: known only by size (iomem hidden without root)
    source: str  # iomem | kexec_crash_size | cmdline | option
    others: list[tuple[int, int]] = field(default_factory=list)  # e.g. the ",low" range

    @property
    def end(self) -> int | None:
        """Last byte (inclusive), as iomem prints it."""
        return None if self.base is None else self.base + self.size - 1

    def to_dict(self) -> dict:
        return {"base": self.base, "size": self.size, "end": self.end, "source": self.source,
                "others": [{"start": s, "end": e} for s, e in self.others]}


@dataclass
class Host:
    root: str
    machine: str | None = None
    arch: str | None = None
    endianness: str | None = None
    osrelease: str | None = None
    page_size: int | None = None  # the running kernel's
    id_aa64mmfr0: int | None = None
    granules: frozenset[int] | None = None  # None: unknown
    mixed_endian: bool | None = None
    cpu: str | None = None  # ppc64 /proc/cpuinfo "cpu"
    cmdline: str | None = None
    crashkernel: list[CrashSpec] = field(default_factory=list)
    crash: CrashRegion | None = None
    crash_note: str = ""
    crash_loaded: bool | None = None
    kexec_load_disabled: bool | None = None
    kexec_load_limit_panic: int | None = None
    lockdown: str | None = None
    secure_boot: bool | None = None
    config: dict[str, str] | None = None  # CONFIG_* of the running kernel, when found
    fdt_size: int | None = None
    mem_total: int | None = None
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)

    def note(self, topic: str, file: str, value: str, note: str = "") -> None:
        self.evidence.setdefault(topic, []).append(Evidence(file, value, note))

    def config_value(self, key: str) -> str | None:
        """"y"/"m"/"n" (not set) for a CONFIG_ key, None when the config is unknown."""
        if self.config is None:
            return None
        return self.config.get(key, "n")

    def target(self) -> Target:
        """The host as a ``Target`` (arch, byte order, granules, crash region)."""
        pages = self.granules
        if pages is None and self.arch == "ppc64":
            pages = frozenset({4096, 65536})
        return Target(self.arch or "unknown", self.endianness or "unknown",
                      pages or frozenset(), bool(self.mixed_endian),
                      self.crash.base if self.crash else None,
                      self.crash.size if self.crash else None,
                      name=f"host {self.root}")

    def to_dict(self) -> dict:
        return {
            "root": self.root,
            "machine": self.machine,
            "arch": self.arch,
            "endianness": self.endianness,
            "osrelease": self.osrelease,
            "page_size": self.page_size,
            "id_aa64mmfr0": None if self.id_aa64mmfr0 is None else f"{self.id_aa64mmfr0:#018x}",
            "granules": None if self.granules is None else sorted(self.granules),
            "mixed_endian": self.mixed_endian,
            "cpu": self.cpu,
            "crashkernel": [c.text for c in self.crashkernel],
            "crash_region": self.crash.to_dict() if self.crash else None,
            "crash_loaded": self.crash_loaded,
            "kexec_load_disabled": self.kexec_load_disabled,
            "kexec_load_limit_panic": self.kexec_load_limit_panic,
            "lockdown": self.lockdown,
            "secure_boot": self.secure_boot,
            "config": self.config,
            "evidence": {k: [e.to_dict() for e in v] for k, v in self.evidence.items()},
        }


# --- reading ---------------------------------------------------------------------------

class _Reader:
    def __init__(self, root: str):
        self.root = root

    def path(self, name: str) -> str:
        return name if self.root == "/" else os.path.join(self.root, name.lstrip("/"))

    def read(self, name: str, limit: int = 1 << 20) -> tuple[bytes | None, str]:
        """(bytes or None, why not)."""
        try:
            with open(self.path(name), "rb") as f:
                return f.read(limit), ""
        except FileNotFoundError:
            return None, "absent"
        except PermissionError:
            return None, "unreadable: permission denied"
        except IsADirectoryError:
            return None, "is a directory"
        except OSError as exc:
            return None, f"unreadable: {exc.strerror or exc}"

    def text(self, name: str, limit: int = 1 << 20) -> tuple[str | None, str]:
        data, why = self.read(name, limit)
        return (None, why) if data is None else (data.decode("utf-8", "replace"), "")


def read_host(root: str | os.PathLike = "/", crashkernel: str | None = None) -> Host:
    """Read the host at ``root``; ``crashkernel`` (``SIZE[@BASE]``) replaces its region."""
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise HostError(f"{root}: not a directory (a sysroot is laid out like /)")
    r = _Reader(root)
    host = Host(root=root)
    _read_arch(r, host)
    _read_pages(r, host)
    _read_config(r, host)
    _read_crash(r, host, crashkernel)
    _read_load_path(r, host)
    return host


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def _read_arch(r: _Reader, host: Host) -> None:
    osrelease, why = r.text(P_OSRELEASE)
    if osrelease is not None:
        host.osrelease = _first_line(osrelease)
    text, why = r.text(P_ARCH)
    if text is not None and _first_line(text):
        host.machine = _first_line(text)
        host.note("arch", P_ARCH, host.machine)
    elif r.root == "/":
        host.machine = os.uname().machine
        host.note("arch", "uname(2)", host.machine, f"{P_ARCH} {why or 'empty'}")
    elif host.osrelease:
        for suffix, machine in _RELEASE_SUFFIXES:
            if host.osrelease.endswith(suffix):
                host.machine = machine
                host.note("arch", P_OSRELEASE, host.osrelease,
                          f"{P_ARCH} {why or 'empty'}; arch inferred from the release "
                          f"suffix {suffix!r}")
                break
        else:
            host.note("arch", P_OSRELEASE, host.osrelease,
                      f"{P_ARCH} {why or 'empty'}; no known flavour suffix")
    else:
        host.note("arch", P_ARCH, why)
    if host.machine in MACHINES:
        host.arch, host.endianness = MACHINES[host.machine]
    elif host.machine:
        host.arch = host.machine  # another architecture: reported as it is
    if host.arch == "ppc64":
        cpuinfo, _ = r.text(P_CPUINFO, 64 * KiB)
        if cpuinfo:
            m = re.search(r"^cpu\s*:\s*(.+)$", cpuinfo, re.M)
            if m:
                host.cpu = m.group(1).strip()
                host.note("cpu", P_CPUINFO, f"cpu : {host.cpu}")


def _read_pages(r: _Reader, host: Host) -> None:
    smaps, why = r.text(P_SMAPS, 64 * KiB)
    m = re.search(r"^KernelPageSize:\s+(\d+) kB", smaps or "", re.M)
    if m:
        host.page_size = int(m.group(1)) * KiB
        host.note("pages", P_SMAPS, m.group(0).strip())
    elif r.root == "/":
        host.page_size = os.sysconf("SC_PAGE_SIZE")
        host.note("pages", "sysconf(_SC_PAGESIZE)", str(host.page_size))
    else:
        host.note("pages", P_SMAPS, why or "no KernelPageSize line")
    if host.arch != "arm64":
        return
    text, why = r.text(P_MMFR0)
    if text is not None:
        try:
            value = int(_first_line(text), 16)
        except ValueError:
            host.note("pages", P_MMFR0, _first_line(text), "not a hexadecimal number")
        else:
            host.id_aa64mmfr0 = value
            host.granules, host.mixed_endian = decode_id_aa64mmfr0(value)
            host.note("pages", P_MMFR0, _first_line(text), describe_id_aa64mmfr0(value))
    else:
        host.note("pages", P_MMFR0, why,
                  "mainline kernels expose only midr_el1/revidr_el1 there; granules unknown")
        midr, _ = r.text(P_MIDR)
        if midr:
            host.note("pages", P_MIDR, _first_line(midr), "CPU model, for the record")


def decode_id_aa64mmfr0(value: int) -> tuple[frozenset[int], bool]:
    """Granules and mixed-endian support from ID_AA64MMFR0_EL1.

    Arm ARM (DDI 0487), ID_AA64MMFR0_EL1: TGran4 [31:28] 0b0000 supported, 0b0001
    supported with 52-bit addresses (FEAT_LPA2), 0b1111 not supported; TGran64 [27:24]
    0b0000 supported, 0b1111 not; TGran16 [23:20] 0b0000 NOT supported, 0b0001
    supported, 0b0010 supported with FEAT_LPA2; BigEnd [11:8] 0b0001 mixed-endian
    (SCTLR_ELx.EE configurable). Reserved values count as not supported.
    """
    tgran4 = (value >> 28) & 0xF
    tgran64 = (value >> 24) & 0xF
    tgran16 = (value >> 20) & 0xF
    bigend = (value >> 8) & 0xF
    pages = set()
    if tgran4 in (0, 1):
        pages.add(4 * KiB)
    if tgran16 in (1, 2):
        pages.add(16 * KiB)
    if tgran64 == 0:
        pages.add(64 * KiB)
    return frozenset(pages), bigend == 1


def describe_id_aa64mmfr0(value: int) -> str:
    pages, mixed = decode_id_aa64mmfr0(value)
    return (f"TGran4={(value >> 28) & 0xF:#x} TGran64={(value >> 24) & 0xF:#x} "
            f"TGran16={(value >> 20) & 0xF:#x} BigEnd={(value >> 8) & 0xF:#x}: granules "
            f"{', '.join(f'{p // KiB}K' for p in sorted(pages)) or 'none'}; "
            f"mixed-endian {'yes' if mixed else 'no'}")


def _read_config(r: _Reader, host: Host) -> None:
    """The running kernel's config: /boot/config-<osrelease>, else /proc/config.gz."""
    candidates = []
    if host.osrelease:
        candidates.append(f"/boot/config-{host.osrelease}")
    candidates.append("/proc/config.gz")
    for name in candidates:
        data, why = r.read(name, 4 << 20)
        if data is None:
            host.note("config", name, why)
            continue
        if name.endswith(".gz"):
            import gzip
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                host.note("config", name, f"not gzip: {exc}")
                continue
        host.config = parse_config(data.decode("utf-8", "replace"))
        shown = " ".join(f"{k[7:]}={host.config.get(k, 'n')}" for k in CONFIG_KEYS)
        host.note("config", name, shown)
        return


def parse_config(text: str) -> dict[str, str]:
    config = {}
    for line in text.splitlines():
        m = re.match(r"^(CONFIG_\w+)=(.*)$", line)
        if m:
            config[m.group(1)] = m.group(2).strip('"')
    return config


# --- the crash region ------------------------------------------------------------------

_SUFFIX = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": 1 << 40, "p": 1 << 50, "e": 1 << 60}


def memparse(text: str) -> int:
    """The kernel's memparse(): a C integer (0x.., 0.., decimal) and a K/M/G/T/P/E suffix."""
    m = re.fullmatch(r"\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtTpPeE]?)\s*", text)
    if not m:
        raise ValueError(f"not a size: {text!r}")
    number, suffix = m.groups()
    if number.lower().startswith("0x"):
        value = int(number, 16)
    elif number.startswith("0") and len(number) > 1:
        value = int(number, 8)
    else:
        value = int(number)
    return value * _SUFFIX[suffix.lower()]


def parse_crashkernel(text: str, mem_total: int | None = None) -> CrashSpec:
    """One ``crashkernel=`` value (without the ``crashkernel=``).

    Forms (Documentation/admin-guide/kdump/kdump.rst): ``SIZE[@OFFSET]``,
    ``RANGE:SIZE[,RANGE:SIZE...][@OFFSET]`` with RANGE ``START-[END]`` matched against
    the system's memory, ``SIZE,high`` and ``SIZE,low``.
    """
    value = text.strip()
    if value.endswith(",high") or value.endswith(",low"):
        body, _, kind = value.rpartition(",")
        return CrashSpec(text, memparse(body), None, kind)
    body, _, offset = value.partition("@")
    base = memparse(offset) if offset else None
    if ":" in body:
        size = None
        for item in body.split(","):
            span, _, amount = item.partition(":")
            start_text, _, end_text = span.partition("-")
            start = memparse(start_text)
            end = memparse(end_text) if end_text.strip() else None
            if mem_total is not None and mem_total >= start and (end is None or
                                                                 mem_total < end):
                size = memparse(amount)
                break
        return CrashSpec(text, size, base, "ranges")
    return CrashSpec(text, memparse(body), base, "size")


_IOMEM_CRASH = re.compile(r"^\s*([0-9a-fA-F]+)-([0-9a-fA-F]+) : Crash kernel\s*$", re.M)


def _read_crash(r: _Reader, host: Host, option: str | None) -> None:
    meminfo, _ = r.text(P_MEMINFO, 64 * KiB)
    m = re.search(r"^MemTotal:\s+(\d+) kB", meminfo or "", re.M)
    if m:
        host.mem_total = int(m.group(1)) * KiB
    cmdline, why = r.text(P_CMDLINE, 64 * KiB)
    if cmdline is not None:
        host.cmdline = cmdline.strip()
        for token in host.cmdline.split():
            if token.startswith("crashkernel="):
                value = token[len("crashkernel="):]
                try:
                    spec = parse_crashkernel(value, host.mem_total)
                except ValueError:
                    spec = CrashSpec(value, None, kind="unparsable")
                host.crashkernel.append(spec)
        shown = " ".join(f"crashkernel={c.text}" for c in host.crashkernel)
        host.note("crash", P_CMDLINE, shown or "no crashkernel=")
    else:
        host.note("crash", P_CMDLINE, why)

    if option is not None:
        try:
            spec = parse_crashkernel(option, host.mem_total)
        except ValueError as exc:
            raise HostError(f"--crashkernel {option}: {exc}") from None
        if spec.size is None or spec.kind not in ("size", "ranges"):
            raise HostError(f"--crashkernel {option}: expected SIZE[@BASE], e.g. 512M@0xa0000000")
        host.crash = CrashRegion(spec.size, spec.base, "option")
        host.note("crash", "--crashkernel", option,
                  "the region given on the command line replaces the host's")
        return

    iomem, why = r.text(P_IOMEM, 4 << 20)
    ranges = [(int(a, 16), int(b, 16)) for a, b in _IOMEM_CRASH.findall(iomem or "")]
    for line in (m.group(0).strip() for m in _IOMEM_CRASH.finditer(iomem or "")):
        host.note("crash", P_IOMEM, line)
    visible = [rg for rg in ranges if rg != (0, 0)]
    if iomem is None:
        host.note("crash", P_IOMEM, why)
    elif not ranges:
        host.note("crash", P_IOMEM, "no \"Crash kernel\" range")
    if visible:
        # crashk_res is the high (or only) range; a second, lower one is crashk_low_res
        # (crashkernel=...,low or the automatic low part of ,high).
        visible.sort()
        start, end = visible[-1]
        host.crash = CrashRegion(end - start + 1, start, "iomem", others=visible[:-1])
        return
    hidden = bool(ranges)
    size_text, why_size = r.text(P_CRASH_SIZE)
    size = None
    if size_text is not None:
        size = _int(size_text)
        host.note("crash", P_CRASH_SIZE, _first_line(size_text),
                  "iomem shows zeros without CAP_SYS_ADMIN: size from here" if hidden else "")
    else:
        host.note("crash", P_CRASH_SIZE, why_size)
    main = next((c for c in host.crashkernel if c.kind in ("size", "ranges", "high")), None)
    if size:
        base = main.base if main is not None else None
        host.crash = CrashRegion(size, base, "kexec_crash_size")
        host.crash_note = ("base " + (f"{base:#x} from crashkernel=@" if base is not None
                                      else "unknown (the kernel chose it)")
                           + ("; /proc/iomem hides addresses without root" if hidden else ""))
        return
    if size == 0 and host.crashkernel:
        host.crash_note = (f"crashkernel={host.crashkernel[0].text} is on the command line "
                           f"but {P_CRASH_SIZE} is 0: the reservation failed at boot "
                           f"(see the kernel log)")
        return
    if size is None and main is not None and main.size:
        host.crash = CrashRegion(main.size, main.base, "cmdline")
        host.crash_note = (f"only the command line says so ({P_CRASH_SIZE} {why_size}); "
                           f"not confirmed that the kernel reserved it")


# --- the load path ---------------------------------------------------------------------

def _read_flag(r: _Reader, host: Host, topic: str, name: str) -> int | None:
    text, why = r.text(name)
    if text is None:
        host.note(topic, name, why)
        return None
    host.note(topic, name, _first_line(text))
    return _int(text)


def _int(text: str) -> int | None:
    try:
        return int(_first_line(text), 0)
    except ValueError:
        return None


def _read_load_path(r: _Reader, host: Host) -> None:
    value = _read_flag(r, host, "load", P_LOAD_DISABLED)
    host.kexec_load_disabled = None if value is None else bool(value)
    text, _ = r.text(P_LIMIT_PANIC)
    if text is not None:
        host.note("load", P_LIMIT_PANIC, _first_line(text))
        host.kexec_load_limit_panic = _int(text)
    text, why = r.text(P_LOCKDOWN)
    if text is not None:
        m = re.search(r"\[(\w+)\]", text)
        host.lockdown = m.group(1) if m else None
        host.note("load", P_LOCKDOWN, _first_line(text))
    else:
        host.note("load", P_LOCKDOWN, why, "no lockdown LSM, or securityfs not mounted")
    data, why = r.read(P_EFI_SECUREBOOT, 64)
    if data is not None and len(data) >= 5:
        host.secure_boot = data[4] == 1
        host.note("load", P_EFI_SECUREBOOT, data[:5].hex(" "),
                  f"attributes + value: Secure Boot {'on' if host.secure_boot else 'off'}")
    elif host.arch == "ppc64":
        data, why2 = r.read(P_PPC_SECUREBOOT, 64)
        if data is not None:
            host.secure_boot = True
            host.note("load", P_PPC_SECUREBOOT, "present", "ppc64 OS Secure Boot enforcing")
    value = _read_flag(r, host, "loaded", P_CRASH_LOADED)
    host.crash_loaded = None if value is None else bool(value)
    data, _ = r.read(P_FDT, 8)
    if data is not None and len(data) == 8 and data[:4] == b"\xd0\x0d\xfe\xed":
        host.fdt_size = int.from_bytes(data[4:8], "big")
        host.note("fit", P_FDT, f"totalsize {host.fdt_size}")
