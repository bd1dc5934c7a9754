"""A kdump guest's serial log read back (loadertruth/kdump_guest.py prints the ``KDG-``
markers): ``judge`` gives the run's outcome (no-reservation, load-refused,
capture-failed, capture-ok, or a harness error), with the host facts the guest printed,
kexec's segments and the crash region."""

from __future__ import annotations

import re

_INFO = re.compile(r"^KDG-INFO (\S+) ?(.*)$")
_LOAD = re.compile(r"^KDG-LOAD (\S+) (\S+)")
_VMCORE = re.compile(r"^KDG-CAPTURE vmcore (\d+)")
_CRASH = re.compile(r"^KDG-IOMEM\s+([0-9a-f]+)-([0-9a-f]+) : Crash kernel")
_SEG = re.compile(r"^KDG-KEXEC (.*)$")
_SEGMENT = re.compile(r"^segment\[(\d+)\]\.(mem|memsz)\s*= 0x([0-9a-f]+)")
_PANIC = re.compile(r"Kernel panic - not syncing: (.*)")
_REFUSAL = re.compile(r"failed|[Ee]rror|[Cc]annot|[Cc]ould not|out of range|too big")
_KEXEC_KMSG = re.compile(r"^\[\s*\d+\.\d+\] ((?:kexec|crash_core): .*)$")
_KLINE = re.compile(r"^\[\s*\d+\.\d+\] ")


def judge(log: str, timed_out: bool) -> dict:
    """The outcome of one run, from its serial log."""
    lines = [ln.rstrip("\r") for ln in log.splitlines()]
    info: dict = {}
    kexec: list[str] = []
    load = None
    crash = None
    vmcore = None
    capture_seen = False
    panics: list[str] = []
    after_panic: list[str] = []
    panicked = False
    for ln in lines:
        if m := _INFO.match(ln):
            info[m.group(1)] = m.group(2).strip()
        elif m := _CRASH.match(ln.strip() if ln.startswith("KDG-IOMEM") else ""):
            crash = (int(m.group(1), 16), int(m.group(2), 16) + 1 - int(m.group(1), 16))
        elif m := _SEG.match(ln):
            kexec.append(m.group(1))
        elif m := _LOAD.match(ln):
            load = (m.group(1), m.group(2))
        elif ln.startswith("KDG-PANIC"):
            panicked = True
        elif ln.startswith("KDG-CAPTURE"):
            capture_seen = True
            if m := _VMCORE.match(ln):
                vmcore = int(m.group(1))
        elif panicked:
            after_panic.append(ln)
        if m := _PANIC.search(ln):
            panics.append(m.group(1).strip())
    crash_line = next((ln for ln in lines if "KDG-IOMEM" in ln and "Crash kernel" in ln), None)
    if crash_line and crash is None:
        m = re.search(r"([0-9a-f]+)-([0-9a-f]+) : Crash kernel", crash_line)
        if m:
            crash = (int(m.group(1), 16), int(m.group(2), 16) + 1 - int(m.group(1), 16))
    iomem = [ln[len("KDG-IOMEM "):] for ln in lines if ln.startswith("KDG-IOMEM ")]
    segments: dict[int, dict] = {}
    for ln in kexec:  # kexec -d lists them before the call (and again when it failed)
        if m := _SEGMENT.match(ln):
            seg = segments.setdefault(int(m.group(1)), {})
            seg.setdefault(m.group(2), int(m.group(3), 16))
    out = {"info": info, "kexec": kexec, "iomem": iomem,
           "segments": [segments[i] for i in sorted(segments)],
           "crash_region": {"base": crash[0], "size": crash[1]} if crash else None}
    if load is None:
        out.update(outcome="harness-error", message="the guest never reached kexec"
                   + (" (timed out)" if timed_out else ""),
                   tail=[ln for ln in lines if ln.strip()][-12:])
    elif load[0] == "none":
        out.update(outcome="no-reservation", message="kexec_crash_size 0: nothing reserved")
    elif load[0] != "0" or load[1] != "1":
        said = [ln for ln in kexec if _REFUSAL.search(ln)]
        kernel = [m.group(1) for ln in lines if (m := _KEXEC_KMSG.search(ln))]
        msg = "; ".join([*said[-1:], *(f"kernel: {k}" for k in kernel[-1:])]) or (
            f"rc {load[0]}")
        out.update(outcome="load-refused", message=msg, rc=int(load[0]))
    elif vmcore is not None:
        out.update(outcome="capture-ok", message=f"/proc/vmcore {vmcore} bytes",
                   vmcore=vmcore)
    else:
        kernel_lines = [ln for ln in after_panic if _KLINE.match(ln)]
        capture_lines = kernel_lines[next((i + 1 for i, ln in enumerate(kernel_lines)
                                           if ln.endswith("Bye!")), 0):]
        why = ("the capture kernel panicked: " + panics[-1]) if len(panics) > 1 else (
            "the capture kernel printed nothing (it died before its console)"
            if not capture_lines else "the capture kernel stopped before its /init")
        if capture_seen:
            why = "the capture kernel's /init ran but saw no /proc/vmcore"
        if timed_out:
            why += " (qemu stopped: no console output for a while)"
        out.update(outcome="capture-failed", message=why, tail=kernel_lines[-12:])
    return out
