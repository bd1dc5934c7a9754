"""What a host offers a crash kernel, read from ``/proc`` and ``/sys`` or a sysroot.

``read_host(root)`` reads a running system (``root="/"``) or a directory tree laid out
like ``/`` (``--sysroot``). It never writes, never needs root, and keeps for every
value the file it came from and the value read (``Evidence``), so that a verdict can
always be traced to a file. In a sysroot no path leaves the root (validator.kdump.hostfs:
openat2 RESOLVE_IN_ROOT, or a checked walk); no open blocks; every read is bounded.
A file that is not of the form the kernel writes is *malformed* (``Host.malformed``):
named with a summary, its bytes never shown, its value unknown (validator.kdump.hostread).

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
``/proc/version``                                          the release, when osrelease is not
                                                           readable ("Linux version V ...")
``/boot/config-<osrelease>``                               CONFIG_KEXEC, CONFIG_KEXEC_FILE,
                                                           CONFIG_KEXEC_SIG, ...
``/var/lib/dpkg/status``, ``/usr/sbin/kexec``,             the installed kexec-tools and the
``/etc/os-release``                                        distribution that built it
                                                           (validator.kdump.toolsread)
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
from dataclasses import dataclass, field

from validator.kdump.crashkernel import CrashSpec, memparse, parse_crashkernel
from validator.targets import Target

__all__ = ["CrashRegion", "CrashSpec", "Evidence", "Host", "HostError", "memparse",
           "parse_crashkernel", "read_host"]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

P_ARCH = "/proc/sys/kernel/arch"
P_OSRELEASE = "/proc/sys/kernel/osrelease"
P_VERSION = "/proc/version"
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
    "x86_64": ("x86_64", "little"),
    "riscv64": ("riscv64", "little"),
}

#: Release-name suffixes distributions give their kernel flavours (Debian, Fedora, SUSE).
_RELEASE_SUFFIXES = (
    ("-powerpc64le", "ppc64le"), (".ppc64le", "ppc64le"), ("-ppc64le", "ppc64le"),
    ("-powerpc64", "ppc64"), (".ppc64", "ppc64"), ("-ppc64", "ppc64"),
    ("-arm64", "aarch64"), (".aarch64", "aarch64"), ("-aarch64", "aarch64"),
    ("-64k", "aarch64"), ("-arm64-16k", "aarch64"),
    ("-amd64", "x86_64"), (".x86_64", "x86_64"), ("-x86_64", "x86_64"),
    ("-riscv64", "riscv64"), (".riscv64", "riscv64"),
)

#: Kernel options that decide which kexec syscalls exist and what they demand.
CONFIG_KEYS = ("CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_KEXEC_SIG",
               "CONFIG_KEXEC_SIG_FORCE", "CONFIG_KEXEC_IMAGE_VERIFY_SIG", "CONFIG_CRASH_DUMP",
               "CONFIG_IMA_ARCH_POLICY")


#: Evidence lines kept per topic.
EVIDENCE_CAP = 32


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
    #: what libfdt's fdt_pack leaves of /sys/firmware/fdt (header, memory reservation
    #: block, structure and strings blocks, from its header), when the header was read
    fdt_packed: int | None = None
    mem_total: int | None = None
    os_id: str | None = None  # /etc/os-release ID
    kexec_tools: str | None = None  # the installed release, upstream numbering ("2.0.29")
    kexec_tools_package: str | None = None  # the package's version ("1:2.0.29-2+b1")
    kexec_tools_source: str | None = None  # the file that told the version
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    #: host files that do not have the shape the kernel gives them: (topic, file, summary)
    malformed: list[tuple[str, str, str]] = field(default_factory=list)

    def note(self, topic: str, file: str, value: str, note: str = "") -> None:
        items = self.evidence.setdefault(topic, [])
        if len(items) < EVIDENCE_CAP:
            items.append(Evidence(file, value, note))

    def flag(self, topic: str, file: str, summary: str) -> None:
        """``file`` is not what the kernel writes there: record it, never its bytes."""
        self.malformed.append((topic, file, summary))
        self.note(topic, file, summary, "not what the kernel writes there: ignored")

    def malformed_in(self, *topics: str) -> list[tuple[str, str, str]]:
        return [m for m in self.malformed if m[0] in topics]

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
            "os_id": self.os_id,
            "kexec_tools": {"version": self.kexec_tools, "package": self.kexec_tools_package,
                            "source": self.kexec_tools_source},
            "malformed": [{"topic": t, "file": f, "summary": s} for t, f, s in self.malformed],
            "evidence": {k: [e.to_dict() for e in v] for k, v in self.evidence.items()},
        }


# --- reading (validator.kdump.hostread) -------------------------------------------------------

def read_host(root: str | os.PathLike = "/", crashkernel: str | list[str] | None = None,
              use_openat2: bool = True) -> Host:
    """Read the host at ``root``; ``crashkernel`` (``SIZE[@BASE]``, ``SIZE,high``, ...)
    replaces its region. Every path stays inside ``root`` (see validator.kdump.hostfs)."""
    from validator.kdump.hostread import read

    return read(os.fspath(root), crashkernel, use_openat2)


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


