"""Checks on the capture kernel's command line, as the distro tool would pass it.

``step_command(discovery, host, initrd)`` shows the exact command (validator.kdump.
discover) and warns on what makes a capture kernel fail to boot or to dump:

- ``crashkernel=`` left in: the capture kernel would try to reserve a region inside the
  one it runs in (kdump-tools and kdumpctl both strip it; only an explicit
  KDUMP_CMDLINE / KDUMP_COMMANDLINE or an append line brings it back).
- no ``nr_cpus=`` / ``maxcpus=``: every possible CPU gets its per-CPU areas and is
  brought up inside the small region (Documentation/admin-guide/kdump/kdump.rst:
  "nr_cpus=1 ... recommended"; both tools add one on arm64 and ppc64).
- no ``reset_devices``: drivers do not reset devices that the crashed kernel left
  running (kdump.rst; both tools add it).
- no ``root=`` where the initramfs needs one: a Debian initramfs-tools initrd (kdump-tools,
  or no kdump tool) mounts the root file system named by root= and runs the dump from
  it (kdump-tools-dump.service); kdumpctl removes root= on purpose, its dracut initrd
  carries the dump target.
"""

from __future__ import annotations

from validator.kdump.discover import Discovery
from validator.kdump.host import Evidence, Host
from validator.kdump.model import Step


def cpus_asked(cmdline: str) -> int | None:
    """The CPU count nr_cpus= or maxcpus= gives (the smaller), None without either."""
    found = []
    for token in cmdline.split():
        key, _, value = token.partition("=")
        if key in ("nr_cpus", "maxcpus") and value.isdigit():
            found.append(int(value))
    return min(found) if found else None


def step_command(d: Discovery, host: Host) -> Step:
    ev = [Evidence("command", d.command(), f"as {d.tool} runs it"
                   if d.tool != "none" else "no kdump tool configured")]
    line = d.cmdline or ""
    tokens = line.split()
    keys = {t.split("=", 1)[0] for t in tokens}
    found: list[tuple[str, str, str]] = []
    if d.enabled is False:
        found.append(("warn", "preflight/kdump-disabled",
                      "USE_KDUMP is not 1: kdump-config loads no crash kernel"))
    if "crashkernel" in keys:
        found.append(("warn", "preflight/cmdline-crashkernel",
                      "crashkernel= is left on the capture kernel's line: it would try to "
                      "reserve memory inside its own region"))
    if cpus_asked(line) is None:
        found.append(("warn", "preflight/cmdline-all-cpus",
                      "neither nr_cpus= nor maxcpus=: the capture kernel brings up every "
                      "CPU inside the crash region"))
    if "reset_devices" not in keys:
        found.append(("warn", "preflight/cmdline-no-reset-devices",
                      "no reset_devices: drivers do not reset what the crashed kernel "
                      "left running"))
    if d.tool != "kdumpctl" and "root" not in keys:
        found.append(("warn", "preflight/cmdline-no-root",
                      "no root=: an initramfs-tools initrd cannot mount the root file "
                      "system the dump runs from"))
    if d.fadump:
        found = []
    head = f"{d.tool}: {d.command()}" if d.tool != "none" else d.command()
    if not found:
        return Step("command", "pass", head, ev)
    found.sort(key=lambda f: f[0] != "fail")
    status = "fail" if any(f[0] == "fail" for f in found) else "warn"
    return Step("command", status, head + "; " + "; ".join(f[2] for f in found), ev,
                found[0][1], [f[1] for f in found])


def step_discovery(d: Discovery) -> Step:
    """Did the configuration name a kernel that exists?"""
    ev = list(d.evidence)
    if d.kernel is None or not d.readable:
        why = "; ".join(d.problems) or "no kernel found"
        return Step("discovery", "fail", f"{d.tool}: no capture kernel: {why}", ev,
                    "preflight/capture-kernel-not-found")
    what = f"{d.tool}: kernel {d.kernel}" + (f", initrd {d.initrd}" if d.initrd else
                                            ", no initrd")
    if d.problems:
        return Step("discovery", "pass", what + "; " + "; ".join(d.problems), ev)
    return Step("discovery", "pass", what, ev)


def step_fadump(d: Discovery) -> Step | None:
    """ppc64 firmware-assisted dump: kexec -p is not the path."""
    if not d.fadump:
        return None
    info = d.fadump_info
    extra = ""
    if "reserved" in info:
        extra += f"; the firmware keeps {info['reserved'] >> 20} MiB for the dump"
    if info.get("registered") == 0:
        extra += "; not registered yet (kdumpctl start / kdump-config load registers it)"
    return Step("fadump", "warn",
                "firmware-assisted dump is enabled: on a crash the firmware preserves "
                "memory and the system reboots through firmware into its own kernel; "
                "kexec -p is not used, so the kexec steps are skipped" + extra,
                [e for e in d.evidence if "fadump" in e.file or "fadump" in e.value],
                "preflight/fadump-enabled")
