"""kimage preflight's view of the kdump guest (loadertruth.kdump_guest): a sysroot laid out
like the guest, and kimage's verdict on a crash region of each size.

The sysroot is tests/sysroots/debian13-arm64 (Debian 13, kexec-tools 1:2.0.29-2+b1, kdump-tools)
with what the guest printed in place of the fixture's values: its release, /proc/iomem (with
the "Crash kernel" range of that run), kexec_crash_size, possible CPUs, MemTotal, its
command line and the header of /sys/firmware/fdt (the 40 bytes kimage reads of it). The
capture kernel and initrd are passed as IMAGE and --initrd, as in ``kimage preflight IMAGE
--initrd F`` on that host.

Both the recorder (``python -m loadertruth.kdump_guest --record``) and the fast test
(tests/test_kdump_guest.py, no qemu) use this module, so the verdict recorded and the one
checked are decided on the same host description.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .common import REPO, sha256_file
from .kdump_guest import (
    BUSYBOX,
    CAPTURE_CMDLINE,
    CAPTURE_INIT,
    CPUS,
    GUEST_CMDLINE,
    KROOT,
    RAM_MIB,
    WORK,
    versions,
)

FIXTURE = REPO / "tests" / "sysroots" / "debian13-arm64"


def write_sysroot(dest: Path, guest: dict, run: dict) -> Path:
    """The guest host of one run, as a sysroot under ``dest``. ``guest``: the facts every
    run printed alike (release, possible, memtotal, fdt_head, cmdline); ``run``: the size
    and that run's /proc/iomem lines and kexec_crash_size."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(FIXTURE, dest, symlinks=True)
    release = guest["release"]
    for old in (dest / "boot").glob("config-*"):
        old.unlink()
    config = guest.get("config")
    if config:
        (dest / "boot" / f"config-{release}").write_text(config)
    (dest / "proc/sys/kernel/osrelease").write_text(release + "\n")
    (dest / "proc/cmdline").write_text(f"{guest['cmdline']} crashkernel={run['size']}\n")
    (dest / "proc/iomem").write_text("".join(ln + "\n" for ln in run["iomem"]))
    (dest / "proc/meminfo").write_text(f"MemTotal:       {guest['memtotal']}\n")
    (dest / "sys/kernel/kexec_crash_size").write_text(f"{run['crash_size']}\n")
    (dest / "sys/kernel/kexec_crash_loaded").write_text("0\n")
    (dest / "sys/devices/system/cpu/possible").write_text(guest["possible"] + "\n")
    fdt = dest / "sys/firmware/fdt"
    fdt.parent.mkdir(parents=True, exist_ok=True)
    fdt.write_bytes(bytes.fromhex(guest["fdt_head"]))
    return dest


def preflight(sysroot: Path, image: Path, initrd: Path) -> dict:
    """kimage preflight's JSON report on that host (a subprocess, as a user runs it)."""
    p = subprocess.run([sys.executable, "-m", "validator", "preflight", "--sysroot",
                        str(sysroot), str(image), "--initrd", str(initrd), "--format", "json"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"kimage preflight exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def verdict(report: dict) -> dict:
    """What the record keeps of a report: the verdict, the loader, the fit and reservation
    steps (status and message) and the recommended crashkernel=."""
    steps = {s["step"]: s for s in report["steps"]}

    def brief(name: str) -> dict | None:
        s = steps.get(name)
        return {"status": s["status"], "message": s["message"]} if s else None

    rec = report.get("reservation") or {}
    return {"verdict": report["verdict"], "loader": report["loader"],
            "fit": brief("fit"), "reservation": brief("reservation"),
            "recommend": rec.get("crashkernel"), "recommend_bytes": rec.get("size")}


def guest_facts(runs: list[dict]) -> dict:
    """What every run's guest printed alike (the first run that printed it)."""
    info = next((r["info"] for r in runs if r.get("info", {}).get("fdt_head")), {})
    return {"release": info.get("release"), "possible": info.get("possible"),
            "memtotal": info.get("memtotal"), "fdt_head": info.get("fdt_head"),
            "cmdline": GUEST_CMDLINE}


def kimage_verdicts(runs: list[dict], image: Path, initrd: Path) -> None:
    """Add kimage preflight's verdict on each run's host (kdump_guest_host) to the run."""
    guest = guest_facts(runs)
    config = next(iter(sorted((KROOT / "boot").glob("config-*"))), None)
    guest["config"] = config.read_text() if config else None
    for r in runs:
        if not r.get("iomem"):
            continue
        root = write_sysroot(WORK / "sysroot", guest, {"size": r["size"], "iomem": r["iomem"],
                                                       "crash_size": r["info"]["crash_size"]})
        r["kimage"] = verdict(preflight(root, image, initrd))


def record(runs: list[dict], image: Path, initrd: Path) -> dict:
    """The checked-in record (loadertruth/kdump-guest-results.json)."""
    cap = CAPTURE_INIT.encode()
    v = versions()
    keep = ("size", "outcome", "message", "crash_region", "iomem", "segments", "kimage",
            "seconds", "timed_out")
    return {
        "about": "kexec -p of Debian 13's arm64 kernel into crashkernel=SIZE in a guest, "
                 "then a panic: the real outcome per size and kimage preflight's verdict on "
                 "the same host (python -m loadertruth.kdump_guest --record)",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "qemu": v.get("qemu"),
        "machine": f"-M virt -cpu cortex-a57 -smp {CPUS} -m {RAM_MIB} (TCG)",
        "packages": {k: v.get(k) for k in ("linux-image", "busybox-static", "kexec-tools")},
        "kernel": {"path": f"boot/{image.name}", "size": image.stat().st_size,
                   "sha256": sha256_file(image)},
        "capture_initrd": {"size": initrd.stat().st_size, "sha256": sha256_file(initrd),
                           "compression": "gzip",
                           "files": [["bin/busybox", BUSYBOX.stat().st_size],
                                     ["init", len(cap)]]},
        "capture_cmdline": CAPTURE_CMDLINE,
        "guest": guest_facts(runs),
        "runs": [{k: r[k] for k in keep if k in r} | {"crash_size": int(r["info"]["crash_size"])}
                 for r in runs if r.get("info", {}).get("crash_size")],
    }
