"""Without IMAGE: find the capture kernel, initrd and command line as the distro's tool does.

Read inside the root (``/`` or ``--sysroot``) through validator.kdump.hostfs, each file
bounded and required to be text; every value keeps the file that said it (``Evidence``).

1. Debian / Ubuntu kdump-tools: ``/etc/default/kdump-tools`` (USE_KDUMP, KDUMP_KERNEL,
   KDUMP_INITRD, KDUMP_CMDLINE, KDUMP_CMDLINE_APPEND, KDUMP_KEXEC_ARGS). As kdump-config
   ``locate_kdump_kernel`` does: KDUMP_KERNEL when set (the package sets
   ``/var/lib/kdump/vmlinuz`` and ``/var/lib/kdump/initrd.img``, links ``kdump-config
   symlinks`` points at ``/boot/vmlinuz-V`` and the kdump initrd), else
   ``/boot/vmlinuz-$(uname -r)`` (or vmlinux-) and ``/boot/initrd.img-$(uname -r)``.
   Reference: kdump-tools 1:1.8 ``debian/kdump-config.in`` (as in
   github.com/openvelinux/kdump-tools bc8b413), ``locate_kdump_kernel``, ``kdump_load``.
2. Fedora / RHEL kdump-utils: ``/etc/sysconfig/kdump`` (KDUMP_KERNELVER,
   KDUMP_COMMANDLINE, KDUMP_COMMANDLINE_REMOVE, KDUMP_COMMANDLINE_APPEND, KEXEC_ARGS,
   KDUMP_IMG, KDUMP_IMG_EXT) or ``/etc/kdump.conf``. As kdump-lib.sh
   ``prepare_kdump_bootinfo`` does: version KDUMP_KERNELVER or ``uname -r``; kernel
   ``/boot/$KDUMP_IMG-V$KDUMP_IMG_EXT``; initrd ``/boot/initramfs-Vkdump.img`` (the
   default initramfs name with ``.img`` replaced by ``kdump.img``). Reference:
   kdump-utils v1.0.61 (github.com/rhkdump/kdump-utils 63f248c) ``kdump-lib.sh``,
   ``kdumpctl`` ``load_kdump``.
3. Neither: ``/boot/vmlinuz-$(uname -r)`` and its initrd (``initrd.img-V`` or
   ``initramfs-V.img``); the command line is /proc/cmdline without crashkernel=.

Config files are shell; kimage reads plain ``NAME=value`` lines (quotes removed) and does
not expand ``$``: a value that needs the shell is reported, not guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from validator.kdump.host import Evidence, Host
from validator.kdump.hostfs import HostFS, Unreadable, describe, is_text

DEBIAN_DEFAULTS = "/etc/default/kdump-tools"
DEBIAN_SCRIPT = "/usr/sbin/kdump-config"
FEDORA_SYSCONFIG = "/etc/sysconfig/kdump"
FEDORA_CONF = "/etc/kdump.conf"
FADUMP_ENABLED = "/sys/kernel/fadump/enabled"  # arch/powerpc/kernel/fadump.c, "%d\n"
FADUMP_RESERVED = "/sys/kernel/fadump/mem_reserved"  # "%ld\n", reserve_dump_area_size
FADUMP_REGISTERED = "/sys/kernel/fadump/registered"  # "%d\n", dump_registered
CONFIG_LIMIT = 64 << 10  # real files: a few KiB
SCRIPT_LIMIT = 256 << 10  # kdump-config: about 40 KiB
_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_SCRIPT_APPEND = re.compile(
    rb'^KDUMP_CMDLINE_APPEND=\$\{KDUMP_CMDLINE_APPEND:="([ -!#-~]*)"\}\s*$', re.M)
#: kdump-tools 1:1.8 debian/rules KDUMP_CMDLINE_APPEND, per Debian architecture; what
#: kdump-config holds when /usr/sbin/kdump-config itself is not readable.
DEBIAN_APPEND = {
    "arm64": "reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1",
    "ppc64": "reset_devices systemd.unit=kdump-tools-dump.service maxcpus=1 irqpoll "
             "noirqdistrib nousb",
    # amd64 (and every other architecture): kdump-tools 1:1.8.1's kdump-config, Debian 12
    "x86_64": "reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll "
              "usbcore.nousb",
    "riscv64": "reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll "
               "usbcore.nousb",
}


@dataclass
class Discovery:
    tool: str  # kdump-tools | kdumpctl | none
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None  # the append line, derived
    kexec_args: list[str] = field(default_factory=list)
    enabled: bool | None = None
    fadump: bool = False
    readable: bool = True  # the kernel named is a regular file inside the root
    fadump_info: dict[str, int] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)

    def said(self, file: str, value: str, note: str = "") -> None:
        self.evidence.append(Evidence(file, value, note))

    @property
    def loader(self) -> str:
        return "kexec-file" if "-s" in self.kexec_args or "--kexec-file-syscall" in \
            self.kexec_args else "kexec-tools"

    def command(self) -> str:
        """The command the tool runs, in the tool's own order."""
        line = f'--command-line="{self.cmdline or ""}"'
        initrd = [f"--initrd={self.initrd}"] if self.initrd else []
        if self.tool == "kdumpctl":
            parts = ["kexec", *self.kexec_args, "-p", line, *initrd, self.kernel or "?"]
        else:
            parts = ["kexec", "-p", *self.kexec_args, line, *initrd, self.kernel or "?"]
        return " ".join(parts)

    def to_dict(self) -> dict:
        return {"tool": self.tool, "kernel": self.kernel, "initrd": self.initrd,
                "cmdline": self.cmdline, "kexec_args": self.kexec_args,
                "enabled": self.enabled, "fadump": self.fadump, "loader": self.loader,
                "readable": self.readable,
                "command": self.command(), "problems": self.problems,
                "evidence": [e.to_dict() for e in self.evidence]}


def _shell_vars(fs: HostFS, name: str, d: Discovery) -> dict[str, str] | None:
    """NAME=value lines of a shell config; None when the file is absent."""
    try:
        data, more = fs.read(name, CONFIG_LIMIT)
    except Unreadable as exc:
        if exc.why != "absent":
            d.problems.append(f"{name}: {exc.why}")
        return None
    if more or not is_text(data):
        d.problems.append(f"{name}: not a shell configuration ({describe(data)})")
        return {}
    out: dict[str, str] = {}
    for raw in data.decode("ascii").splitlines():
        m = _ASSIGN.match(raw)
        if not m or raw.lstrip().startswith("#"):
            continue
        value = m.group(2).strip()
        if value[:1] in "\"'" and value.endswith(value[:1]) and len(value) >= 2:
            quote, value = value[0], value[1:-1]
        else:
            quote, value = "", value.split("#", 1)[0].strip()
        if quote != "'" and ("$" in value or "`" in value):
            d.problems.append(f"{name}: {m.group(1)} uses shell expansion; not evaluated")
            continue
        out[m.group(1)] = value
    return out


def _exists(fs: HostFS, name: str) -> bool:
    try:
        import os

        os.close(fs.open(name))
        return True
    except Unreadable:
        return False


def _follow(fs: HostFS, name: str, d: Discovery, what: str) -> None:
    target = fs.link(name)
    if target is not None:
        d.said(name, f"-> {target}", f"the {what} it links to")


def _strip(cmdline: str, names: set[str]) -> str:
    """``cmdline`` without the ``NAME=...`` (and bare ``NAME``) tokens in ``names``."""
    return " ".join(t for t in cmdline.split() if t.split("=", 1)[0] not in names)


def discover(fs: HostFS, host: Host) -> Discovery:
    kver = host.osrelease or ""
    probe = Discovery("kdump-tools")
    if _shell_vars(fs, DEBIAN_DEFAULTS, probe) is not None or probe.problems:
        d = _debian(fs, host, kver)
    else:
        d = _fedora(fs, host, kver)
        if d is None:
            d = _plain(fs, host, kver)
    _fadump(fs, host, d)
    return d


def _fadump(fs: HostFS, host: Host, d: Discovery) -> None:
    try:
        data, _ = fs.read(FADUMP_ENABLED, 16)
    except Unreadable:
        data = None
    if data is not None and data.strip() in (b"0", b"1"):
        d.said(FADUMP_ENABLED, data.strip().decode(), "firmware-assisted dump")
        d.fadump = data.strip() == b"1"
    if d.fadump:
        for name, key in ((FADUMP_RESERVED, "reserved"), (FADUMP_REGISTERED, "registered")):
            try:
                value, _ = fs.read(name, 32)
            except Unreadable:
                continue
            value = value.strip()
            if value.isdigit() and len(value) <= 20:
                d.fadump_info[key] = int(value)
                d.said(name, value.decode(), "fadump: " + (
                    "bytes the firmware keeps for the dump" if key == "reserved" else
                    "1 once the kdump service registered it"))
    if host.cmdline and "fadump=on" in host.cmdline.split():
        d.said("/proc/cmdline", "fadump=on", "firmware-assisted dump requested at boot")
        d.fadump = True


def _debian(fs: HostFS, host: Host, kver: str) -> Discovery:
    d = Discovery("kdump-tools")
    conf = _shell_vars(fs, DEBIAN_DEFAULTS, d) or {}
    d.settings = conf
    use = conf.get("USE_KDUMP")
    d.enabled = None if use is None else use == "1"
    d.said(DEBIAN_DEFAULTS, f"USE_KDUMP={use}" if use is not None else "USE_KDUMP unset",
           "kdump-config loads nothing unless it is 1")
    if conf.get("KDUMP_KERNEL"):
        d.kernel = conf["KDUMP_KERNEL"]
        d.initrd = conf.get("KDUMP_INITRD") or None
        d.said(DEBIAN_DEFAULTS, f"KDUMP_KERNEL={d.kernel}")
        if d.initrd:
            d.said(DEBIAN_DEFAULTS, f"KDUMP_INITRD={d.initrd}")
    else:
        _boot_pair(fs, d, kver, ("vmlinuz-", "vmlinux-"), ("initrd.img-",),
                   "KDUMP_KERNEL unset: the running kernel (locate_kdump_kernel)")
    for name, what in ((d.kernel, "kernel"), (d.initrd, "initrd")):
        if name:
            _follow(fs, name, d, what)
    if "KDUMP_CMDLINE" in conf and conf["KDUMP_CMDLINE"]:
        base = conf["KDUMP_CMDLINE"]
        d.said(DEBIAN_DEFAULTS, "KDUMP_CMDLINE set", "used instead of /proc/cmdline")
    else:
        remove = {"crashkernel", "abm", "isolcpus", "hugepages", "hugepagesz",
                  "default_hugepagesz", "edac_core.edac_report", "edac_report",
                  "BOOT_IMAGE", "processor.max_cstate"}
        base = _strip(host.cmdline or "", remove)
        if host.machine == "aarch64":  # kdump-config: -e 's/(^| )iommu\.[^ ]*//g'
            base = " ".join(t for t in base.split() if not t.startswith("iommu."))
        elif host.arch == "ppc64":  # kdump-config's other-arch branch
            base = _strip(host.cmdline or "", {"crashkernel", "hugepages", "hugepagesz",
                                               "abm"})
        d.said("/proc/cmdline", "the running kernel's line, crashkernel= and others "
               "removed", "kdump-config kdump_load")
    append = conf.get("KDUMP_CMDLINE_APPEND")
    if append is None:
        append, where = _debian_default_append(fs, host)
        d.said(where, f"KDUMP_CMDLINE_APPEND default: {append}")
    else:
        d.said(DEBIAN_DEFAULTS, f"KDUMP_CMDLINE_APPEND={append}")
    d.cmdline = f"{base} {append}".strip()
    # kdump_load's order: -p, -s (check_secure_boot: SecureBoot 1 and SetupMode 0; kimage
    # reads SecureBoot only), --args-linux for an ELF kernel (`file` says ELF), then
    # KDUMP_KEXEC_ARGS.
    args = []
    if host.secure_boot:
        args.append("-s")
        d.said("host", "-s", "Secure Boot: kdump-config adds -s (check_secure_boot)")
    if d.kernel and _is_elf(fs, d.kernel):
        args.append("--args-linux")
        d.said(d.kernel, "ELF", "kdump-config adds --args-linux for an ELF kernel")
    extra = conf.get("KDUMP_KEXEC_ARGS", "").split()
    if extra:
        d.said(DEBIAN_DEFAULTS, f"KDUMP_KEXEC_ARGS={' '.join(extra)}")
    d.kexec_args = args + extra
    return d


def _is_elf(fs: HostFS, name: str) -> bool:
    try:
        head, _ = fs.read(name, 4)
    except Unreadable:
        return False
    return head == b"\x7fELF"


def _debian_default_append(fs: HostFS, host: Host) -> tuple[str, str]:
    try:
        data, _ = fs.read(DEBIAN_SCRIPT, SCRIPT_LIMIT)
    except Unreadable:
        data = b""
    m = _SCRIPT_APPEND.search(data)
    if m:
        return m.group(1).decode("ascii"), DEBIAN_SCRIPT
    return (DEBIAN_APPEND.get(host.arch or "", DEBIAN_APPEND["arm64"]),
            "kdump-tools 1:1.8 debian/rules (the script was not readable)")


def _boot_pair(fs: HostFS, d: Discovery, kver: str, kernels: tuple[str, ...],
               initrds: tuple[str, ...], why: str) -> None:
    if not kver:
        d.problems.append("the running kernel's release is unknown: no /boot/vmlinuz-V")
        return
    for prefix in kernels:
        if _exists(fs, f"/boot/{prefix}{kver}"):
            d.kernel = f"/boot/{prefix}{kver}"
            break
    else:
        d.problems.append(f"no /boot/{kernels[0]}{kver}")
    for name in initrds:
        path = name.replace("V", kver) if "V" in name else f"/boot/{name}{kver}"
        if _exists(fs, path):
            d.initrd = path
            break
    d.said("/proc/sys/kernel/osrelease", kver, why)


def _fedora(fs: HostFS, host: Host, kver: str) -> Discovery | None:
    d = Discovery("kdumpctl")
    conf = _shell_vars(fs, FEDORA_SYSCONFIG, d)
    has_conf = _exists(fs, FEDORA_CONF)
    if conf is None and not has_conf:
        return None
    conf = conf or {}
    d.settings = conf
    if has_conf:
        d.said(FEDORA_CONF, "present", "kdumpctl's dump target and collector")
    version = conf.get("KDUMP_KERNELVER") or kver
    d.said(FEDORA_SYSCONFIG if conf.get("KDUMP_KERNELVER") else "/proc/sys/kernel/osrelease",
           version, "KDUMP_KERNELVER" if conf.get("KDUMP_KERNELVER") else
           "KDUMP_KERNELVER unset: uname -r (_get_kdump_kernel_version)")
    img, ext = conf.get("KDUMP_IMG", "vmlinuz"), conf.get("KDUMP_IMG_EXT", "")
    kernel = f"/boot/{img}-{version}{ext}"
    if _exists(fs, kernel):
        d.kernel = kernel
    else:
        d.problems.append(f"no {kernel} (kdumpctl: 'Failed to detect kdump kernel location')")
    d.initrd = f"/boot/initramfs-{version}kdump.img"
    if not _exists(fs, d.initrd):
        d.problems.append(f"no {d.initrd} yet: kdumpctl builds it (mkdumprd) when the "
                          f"service starts")
        d.initrd = None
    if conf.get("KDUMP_COMMANDLINE"):
        base = conf["KDUMP_COMMANDLINE"]
        d.said(FEDORA_SYSCONFIG, "KDUMP_COMMANDLINE set", "used instead of /proc/cmdline")
    else:
        base = host.cmdline or ""
        d.said("/proc/cmdline", "the running kernel's line", "kdump-lib.sh prepare_cmdline")
    remove = set(conf.get("KDUMP_COMMANDLINE_REMOVE", "hugepages hugepagesz slub_debug")
                 .split())
    remove = {r.split("=", 1)[0] for r in remove}
    # prepare_cmdline always removes these (kdump-lib.sh)
    remove |= {"crashkernel", "panic_on_warn", "root", "rd.lvm.lv", "rd.luks.uuid",
               "rd.dm.uuid", "rd.md.uuid", "fcoe", "netroot", "rd.iscsi.initiator",
               "iscsi_initiator"}
    append = conf.get("KDUMP_COMMANDLINE_APPEND", "")
    d.said(FEDORA_SYSCONFIG, f"KDUMP_COMMANDLINE_APPEND={append}")
    d.cmdline = " ".join(f"{_strip(base, remove)} {append} rd.systemd.gpt_auto=no".split())
    args = conf.get("KEXEC_ARGS", "").split()
    if host.secure_boot and "-s" not in args:
        args.append("-s")  # prepare_kexec_args: is_secure_boot_enforced
        d.said("host", "-s", "Secure Boot: kdumpctl adds -s")
    if conf.get("KEXEC_ARGS"):
        d.said(FEDORA_SYSCONFIG, f"KEXEC_ARGS={conf['KEXEC_ARGS']}")
    d.kexec_args = args
    d.enabled = None
    return d


def _plain(fs: HostFS, host: Host, kver: str) -> Discovery:
    d = Discovery("none")
    d.problems.append("no kdump-tools or kdump-utils configuration: the running kernel")
    _boot_pair(fs, d, kver, ("vmlinuz-", "vmlinux-"), ("initrd.img-", "/boot/initramfs-V.img"),
               "no kdump configuration: the running kernel")
    d.cmdline = _strip(host.cmdline or "", {"crashkernel"})
    d.said("/proc/cmdline", "the running kernel's line without crashkernel=")
    return d
