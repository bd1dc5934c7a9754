"""Reading a host into ``validator.kdump.host.Host``: every file bounded and checked for shape.

Files are opened through ``validator.kdump.hostfs.HostFS`` (inside the root, never blocking).
Each value is accepted only in the form the kernel writes it (a decimal flag, a release
name, ``START-END : NAME`` lines, a kernel .config, ...); a file that is present but not
of that form is *malformed*: ``Host.flag`` records the file with a sanitised summary
("binary, 4096 bytes", "not a number") and its value stays unknown. No byte of such a
file is shown. Absent files and files only root may read are not malformed: they are
what a non-root user sees on a real host.
"""

from __future__ import annotations

import os
import re

from validator.kconfig import config_problem
from validator.kdump import host as H
from validator.kdump.crashkernel import check_option, chosen, cma_note, parse_crashkernel
from validator.kdump.fdtsize import FDT_HEADER, fdt_packed
from validator.kdump.host import Evidence, Host, HostError, KiB, MiB
from validator.kdump.hostfs import HostFS, LineTooLong, TooLarge, Unreadable, describe, is_text

SMALL = 4 * KiB  # a sysctl or sysfs value
IOMEM_LIMIT = 4 * MiB  # real /proc/iomem: a few KiB to a few hundred KiB
CONFIG_LIMIT = 4 * MiB  # real .config: about 250 KiB
_RELEASE = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}")
_MACHINE = re.compile(rb"[a-z0-9_]{1,32}")
_HEX = re.compile(rb"0x[0-9a-fA-F]{1,16}")
_IOMEM_LINE = re.compile(rb" *([0-9a-fA-F]{1,16})-([0-9a-fA-F]{1,16}) : ([ -~]+)")
_CONFIG_VALUE = re.compile(rb"^(CONFIG_[A-Za-z0-9_]+)=(.*)$", re.M)


class _Reader:
    """HostFS plus the bookkeeping: why a file was not read, and flagging."""

    def __init__(self, fs: HostFS, host: Host):
        self.fs, self.host, self.why = fs, host, {}

    def read(self, topic: str, name: str, limit: int = SMALL,
             whole: bool = True) -> bytes | None:
        """The bytes of ``name``; None (and why) when unreadable. ``whole``: more than
        ``limit`` bytes is malformed (else the first ``limit`` bytes are enough)."""
        try:
            data, more = self.fs.read(name, limit)
        except Unreadable as exc:
            self.why[name] = exc.why
            if exc.odd:
                self.host.flag(topic, name, exc.why)
            return None
        if more and whole:
            self.bad(topic, name, f"longer than {limit} bytes")
            return None
        return data

    def text(self, topic: str, name: str, limit: int = SMALL, whole: bool = True) -> bytes | None:
        """Like ``read``, and printable text, else malformed."""
        data = self.read(topic, name, limit, whole)
        if data is not None and not is_text(data):
            self.bad(topic, name, describe(data))
            return None
        return data

    def line(self, topic: str, name: str, pattern: re.Pattern, what: str) -> bytes | None:
        """A one-line file whose line matches ``pattern``, else malformed."""
        data = self.text(topic, name)
        if data is None:
            return None
        value = data.strip()
        if not pattern.fullmatch(value):
            self.bad(topic, name, f"{what} ({describe(data)})")
            return None
        return value

    def bad(self, topic: str, name: str, summary: str) -> None:
        self.why[name] = f"malformed: {summary}"
        self.host.flag(topic, name, summary)


def read(root: str, crashkernel: str | list[str] | None, use_openat2: bool) -> Host:
    if not os.path.isdir(root):
        raise HostError(f"{root}: not a directory (a sysroot is laid out like /)")
    try:
        fs = HostFS(root, use_openat2)
    except Unreadable as exc:
        raise HostError(f"{root}: {exc.why}") from None
    host = Host(root=root)
    options = [crashkernel] if isinstance(crashkernel, str) else crashkernel
    with fs:
        r = _Reader(fs, host)
        _read_arch(r, host)
        _read_pages(r, host)
        _read_config(r, host)
        _read_crash(r, host, options)
        _read_load_path(r, host)
        from validator.kdump.toolsread import read_tools

        read_tools(fs, host)
    return host


def _s(value: bytes) -> str:
    return value.decode("ascii")


def _read_arch(r: _Reader, host: Host) -> None:
    release = r.line("arch", H.P_OSRELEASE, _RELEASE, "not a kernel release")
    host.osrelease = None if release is None else _s(release)
    if release is None and H.P_OSRELEASE not in {f for _, f, _ in host.malformed}:
        text = r.text("arch", H.P_VERSION, SMALL, whole=False)
        m = re.match(rb"Linux version (\S{1,128}) ", text or b"")
        if m and _RELEASE.fullmatch(m.group(1)):
            host.osrelease = _s(m.group(1))
            host.note("arch", H.P_VERSION, host.osrelease,
                      f"{H.P_OSRELEASE} {r.why.get(H.P_OSRELEASE, 'absent')}")
    machine = r.line("arch", H.P_ARCH, _MACHINE, "not a machine name")
    why = r.why.get(H.P_ARCH, "empty")
    if machine is not None:
        host.machine = _s(machine)
        host.note("arch", H.P_ARCH, host.machine)
    elif r.fs.live:
        host.machine = os.uname().machine
        host.note("arch", "uname(2)", host.machine, f"{H.P_ARCH} {why}")
    elif host.osrelease:
        for suffix, name in H._RELEASE_SUFFIXES:
            if host.osrelease.endswith(suffix):
                host.machine = name
                host.note("arch", H.P_OSRELEASE, host.osrelease,
                          f"{H.P_ARCH} {why}; arch inferred from the release suffix "
                          f"{suffix!r}")
                break
        else:
            host.note("arch", H.P_OSRELEASE, host.osrelease,
                      f"{H.P_ARCH} {why}; no known flavour suffix")
    elif H.P_ARCH not in {f for _, f, _ in host.malformed}:
        host.note("arch", H.P_ARCH, why)
    if host.machine in H.MACHINES:
        host.arch, host.endianness = H.MACHINES[host.machine]
    elif host.machine:
        host.arch = host.machine  # another architecture: reported as it is
    if host.arch == "ppc64":
        cpuinfo = r.text("cpu", H.P_CPUINFO, 64 * KiB, whole=False)
        m = re.search(rb"^cpu\s*:\s*([ -~]{1,128})$", cpuinfo or b"", re.M)
        if m:
            host.cpu = _s(m.group(1).strip())
            host.note("cpu", H.P_CPUINFO, f"cpu : {host.cpu}")
        elif cpuinfo is not None:
            r.bad("cpu", H.P_CPUINFO, f"no 'cpu : NAME' line ({describe(cpuinfo)})")


def _read_pages(r: _Reader, host: Host) -> None:
    smaps = r.text("pages", H.P_SMAPS, 64 * KiB, whole=False)
    m = re.search(rb"^KernelPageSize:\s+(\d{1,8}) kB$", smaps or b"", re.M)
    size = int(m.group(1)) * KiB if m else 0
    if m and size & (size - 1) == 0 and 4 * KiB <= size <= 64 * KiB:
        host.page_size = size
        host.note("pages", H.P_SMAPS, _s(m.group(0).strip()))
    elif smaps is not None:
        r.bad("pages", H.P_SMAPS, "KernelPageSize is no base page size" if m else
              f"no KernelPageSize line ({describe(smaps)})")
    if host.page_size is None and r.fs.live:
        host.page_size = os.sysconf("SC_PAGE_SIZE")
        host.note("pages", "sysconf(_SC_PAGESIZE)", str(host.page_size))
    elif smaps is None and H.P_SMAPS in r.why and not r.why[H.P_SMAPS].startswith("malformed"):
        host.note("pages", H.P_SMAPS, r.why[H.P_SMAPS])
    if host.arch != "arm64":
        return
    value = r.line("pages", H.P_MMFR0, _HEX, "not a hexadecimal number")
    if value is not None:
        number = int(value, 16)
        host.id_aa64mmfr0 = number
        host.granules, host.mixed_endian = H.decode_id_aa64mmfr0(number)
        host.note("pages", H.P_MMFR0, _s(value), H.describe_id_aa64mmfr0(number))
    elif not r.why[H.P_MMFR0].startswith("malformed"):
        host.note("pages", H.P_MMFR0, r.why[H.P_MMFR0],
                  "mainline kernels expose only midr_el1/revidr_el1 there; granules unknown")
        midr = r.read("pages", H.P_MIDR)
        shown = (midr or b"").strip()
        if midr is not None:
            host.note("pages", H.P_MIDR, _s(shown) if _HEX.fullmatch(shown) else
                      describe(midr), "CPU model, for the record")


def _read_config(r: _Reader, host: Host) -> None:
    """The running kernel's config: /boot/config-<osrelease>, else /proc/config.gz."""
    candidates = [f"/boot/config-{host.osrelease}"] if host.osrelease else []
    candidates.append("/proc/config.gz")
    for name in candidates:
        if name.endswith(".gz"):
            try:
                data = r.fs.gunzip(name, CONFIG_LIMIT)
            except Unreadable as exc:
                r.why[name] = exc.why
                if exc.odd:
                    host.flag("config", name, exc.why)
                else:
                    host.note("config", name, exc.why)
                continue
        else:
            data = r.read("config", name, CONFIG_LIMIT)
            if data is None:
                if not r.why[name].startswith("malformed"):
                    host.note("config", name, r.why[name])
                continue
        problem = config_problem(data)
        if problem:
            r.bad("config", name, f"not a kernel config: {problem}")
            continue
        found = {k.decode(): v.strip().strip(b'"').decode("ascii", "replace")
                 for k, v in _CONFIG_VALUE.findall(data) if k.decode() in H.CONFIG_KEYS}
        host.config = found
        shown = " ".join(f"{k[7:]}={found.get(k, 'n')}" for k in H.CONFIG_KEYS)
        host.note("config", name, shown)
        return


# --- the crash region ------------------------------------------------------------------

def _read_crash(r: _Reader, host: Host, options: list[str] | None) -> None:
    meminfo = r.text("crash", H.P_MEMINFO, 64 * KiB, whole=False)
    m = re.search(rb"^MemTotal:\s+(\d{1,15}) kB$", meminfo or b"", re.M)
    if m:
        host.mem_total = int(m.group(1)) * KiB
    elif meminfo is not None:
        r.bad("crash", H.P_MEMINFO, f"no MemTotal line ({describe(meminfo)})")
    cmdline = r.text("crash", H.P_CMDLINE, 64 * KiB)
    if cmdline is not None:
        host.cmdline = _s(cmdline.strip())
        odd = 0
        for token in host.cmdline.split():
            if token.startswith("crashkernel="):
                value = token[len("crashkernel="):]
                try:
                    host.crashkernel.append(parse_crashkernel(value, host.mem_total))
                except ValueError:
                    odd += 1
        if odd:
            r.bad("crash", H.P_CMDLINE, f"{odd} crashkernel= value{'s' * (odd > 1)} not "
                  f"understood (not SIZE[@BASE], RANGES[@BASE] or SIZE,high|low|cma)")
        shown = " ".join(f"crashkernel={c.text}" for c in host.crashkernel)
        host.note("crash", H.P_CMDLINE, shown or "no crashkernel=")
        for spec in host.crashkernel:
            if spec.kind == "cma":
                host.note("crash", H.P_CMDLINE, f"crashkernel={spec.text}",
                          cma_note(host.osrelease))
    elif not r.why[H.P_CMDLINE].startswith("malformed"):
        host.note("crash", H.P_CMDLINE, r.why[H.P_CMDLINE])

    if options:
        try:
            got = check_option(options, host.arch, host.mem_total, host.page_size)
        except ValueError as exc:
            raise HostError(f"--crashkernel {' '.join(options)}: {exc}") from None
        host.crash = H.CrashRegion(got.size, got.base, "option")
        host.note("crash", "--crashkernel", " ".join(options),
                  "; ".join(["the region given on the command line replaces the host's",
                             *got.notes]))
        return

    ranges = _read_iomem(r, host)
    visible = sorted(rg for rg in ranges or [] if rg != (0, 0))
    if visible:
        # crashk_res is the high (or only) range; a second, lower one is crashk_low_res
        # (crashkernel=...,low or the automatic low part of ,high).
        start, end = visible[-1]
        host.crash = H.CrashRegion(end - start + 1, start, "iomem", others=visible[:-1])
        return
    hidden = bool(ranges)
    size_text = r.line("crash", H.P_CRASH_SIZE, re.compile(rb"\d{1,20}"), "not a number")
    size = None if size_text is None else int(size_text)
    if size is not None:
        host.note("crash", H.P_CRASH_SIZE, str(size),
                  "iomem shows zeros without CAP_SYS_ADMIN: size from here" if hidden else "")
    elif not r.why[H.P_CRASH_SIZE].startswith("malformed"):
        host.note("crash", H.P_CRASH_SIZE, r.why[H.P_CRASH_SIZE])
    main = chosen(host.crashkernel, host.osrelease)
    if size:
        base = main.base if main is not None else None
        host.crash = H.CrashRegion(size, base, "kexec_crash_size")
        host.crash_note = ("base " + (f"{base:#x} from crashkernel=@" if base is not None
                                      else "unknown (the kernel chose it)")
                           + ("; /proc/iomem hides addresses without root" if hidden else ""))
        return
    if size == 0 and host.crashkernel:
        named = main or host.crashkernel[-1]
        host.crash_note = (f"crashkernel={named.text} is on the command line "
                           f"but {H.P_CRASH_SIZE} is 0: the reservation failed at boot "
                           f"(see the kernel log)")
        return
    if size is None and main is not None and main.size:
        host.crash = H.CrashRegion(main.size, main.base, "cmdline")
        host.crash_note = (f"only the command line says so ({H.P_CRASH_SIZE} "
                           f"{r.why[H.P_CRASH_SIZE]}); not confirmed that the kernel "
                           f"reserved it")


def _read_iomem(r: _Reader, host: Host) -> list[tuple[int, int]] | None:
    """The "Crash kernel" ranges of /proc/iomem, streamed; None when not usable."""
    ranges: list[tuple[int, int]] = []
    lines: list[str] = []
    count = 0
    try:
        for count, line in enumerate(r.fs.lines(H.P_IOMEM, IOMEM_LIMIT), 1):
            m = _IOMEM_LINE.fullmatch(line)
            if not m or int(m.group(1), 16) > int(m.group(2), 16):
                r.bad("crash", H.P_IOMEM, f"line {count}: {describe(line)}"
                      if not is_text(line) else f"line {count} is not 'START-END : NAME'")
                return None
            if m.group(3).rstrip() != b"Crash kernel":
                continue
            if len(ranges) == 2:  # crashk_res and crashk_low_res: there are no others
                r.bad("crash", H.P_IOMEM, "more than two \"Crash kernel\" ranges")
                return None
            ranges.append((int(m.group(1), 16), int(m.group(2), 16)))
            lines.append(_s(line.strip()))
    except Unreadable as exc:
        r.why[H.P_IOMEM] = exc.why
        (host.flag if exc.odd else host.note)("crash", H.P_IOMEM, exc.why)
        return None
    except (TooLarge, LineTooLong) as exc:
        r.bad("crash", H.P_IOMEM, str(exc))
        return None
    if count == 0:
        r.bad("crash", H.P_IOMEM, "empty")
        return None
    for line in lines:
        host.note("crash", H.P_IOMEM, line)
    if not lines:
        host.note("crash", H.P_IOMEM, "no \"Crash kernel\" range")
    return ranges


# --- the load path ---------------------------------------------------------------------

_FLAG = re.compile(rb"[01]")
_LOCKDOWN = re.compile(rb"\[?[a-z]{1,32}\]?(?: \[?[a-z]{1,32}\]?){0,15}")


def _read_load_path(r: _Reader, host: Host) -> None:
    value = r.line("load", H.P_LOAD_DISABLED, _FLAG, "not 0 or 1")
    host.kexec_load_disabled = None if value is None else value == b"1"
    if value is not None:
        host.note("load", H.P_LOAD_DISABLED, _s(value))
    elif not r.why[H.P_LOAD_DISABLED].startswith("malformed"):
        host.note("load", H.P_LOAD_DISABLED, r.why[H.P_LOAD_DISABLED])
    value = r.line("load", H.P_LIMIT_PANIC, re.compile(rb"-1|\d{1,10}"), "not a number")
    if value is not None:
        host.note("load", H.P_LIMIT_PANIC, _s(value))
        host.kexec_load_limit_panic = int(value)
    value = r.line("load", H.P_LOCKDOWN, _LOCKDOWN, "not a lockdown list")
    if value is not None and value.count(b"[") == 1 == value.count(b"]"):
        host.lockdown = _s(re.search(rb"\[([a-z]+)\]", value).group(1))
        host.note("load", H.P_LOCKDOWN, _s(value))
    elif value is not None:
        r.bad("load", H.P_LOCKDOWN, "not a lockdown list: no single [mode]")
    elif not r.why[H.P_LOCKDOWN].startswith("malformed"):
        host.note("load", H.P_LOCKDOWN, r.why[H.P_LOCKDOWN],
                  "no lockdown LSM, or securityfs not mounted")
    data = r.read("load", H.P_EFI_SECUREBOOT, 64)
    if data is not None and (len(data) != 5 or data[4] not in (0, 1)):
        r.bad("load", H.P_EFI_SECUREBOOT, f"not an EFI SecureBoot variable (attributes "
              f"and one byte 0 or 1): {describe(data)}")
    elif data is not None:
        host.secure_boot = data[4] == 1
        host.note("load", H.P_EFI_SECUREBOOT, data.hex(" "),
                  f"attributes + value: Secure Boot {'on' if host.secure_boot else 'off'}")
    elif host.arch == "ppc64" and r.read("load", H.P_PPC_SECUREBOOT, 64) is not None:
        host.secure_boot = True
        host.note("load", H.P_PPC_SECUREBOOT, "present", "ppc64 OS Secure Boot enforcing")
    value = r.line("loaded", H.P_CRASH_LOADED, _FLAG, "not 0 or 1")
    host.crash_loaded = None if value is None else value == b"1"
    if value is not None:
        host.note("loaded", H.P_CRASH_LOADED, _s(value))
    elif not r.why[H.P_CRASH_LOADED].startswith("malformed"):
        host.note("loaded", H.P_CRASH_LOADED, r.why[H.P_CRASH_LOADED])
    data = r.read("fit", H.P_FDT, FDT_HEADER, whole=False)
    if data is not None and len(data) >= 8 and data[:4] == b"\xd0\x0d\xfe\xed":
        host.fdt_size = int.from_bytes(data[4:8], "big")
        host.fdt_packed = fdt_packed(data)
        host.note("fit", H.P_FDT, f"totalsize {host.fdt_size}" + (
            f", {host.fdt_packed} packed" if host.fdt_packed is not None else ""))
    elif data is not None:
        r.bad("fit", H.P_FDT, f"not a flattened device tree ({describe(data)})")


__all__ = ["Evidence", "config_problem", "read"]
