"""U-Boot ``booti`` (Debian u-boot-qemu, qemu_arm64) under qemu-system-aarch64.

The image is placed in RAM by QEMU (``-device loader,...,force-raw=on``) at
``kernel_addr_r`` (0x40400000 on qemu_arm64); the harness stops autoboot, types
``booti 0x40400000 - ${fdtcontroladdr}`` and reads the verdict:

=====================================  ===========================================
console                                verdict
=====================================  ===========================================
``Starting kernel ...``                accepted (QEMU is stopped right there)
``Bad Linux ARM64 Image magic!``       rejected
another error, then the ``=>`` prompt  rejected, by the first line after the command
                                       that is not progress (FDT, "Moving Image")
``"Synchronous Abort" handler``        rejected: U-Boot itself crashed (e.g. moving
                                       a huge image_size)
nothing of the above in time           None (harness timeout)
=====================================  ===========================================
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from .common import Verdict, new_verdict, qemu, suite, suite_qemu_root, tail, versions
from .console import Console

UBOOT_BIN = Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin")
LOAD_ADDR = 0x40400000
RAM_MIB = 2048
TIMEOUT = 20.0
#: once U-Boot prints "Moving Image", memmove of a huge image_size runs through all of
#: RAM (over U-Boot itself) before it faults: allow that much longer, still bounded
MOVE_TIMEOUT = 90.0
COMMAND = f"booti {LOAD_ADDR:#x} - ${{fdtcontroladdr}}"

ACCEPT = "Starting kernel ..."
REJECT = [
    "Bad Linux ARM64 Image magic!",
    "kernel_comp_addr_r or kernel_comp_size is not provided!",
    "kernel_comp_addr_r is outside of DRAM range!",
    "FDT image overlaps OS image",
    '"Synchronous Abort" handler',
    "ERROR: ",
]
#: Lines after the command that are progress, not a verdict.
PROGRESS = re.compile(
    r"^(## Flattened Device Tree blob|\s*Booting using the fdt blob|Working FDT set to|"
    r"\s*Loading Device Tree to|Moving Image from|Image lacks image_size field|=> ?$)"
)
_MOVE = re.compile(r"Moving Image from 0x([0-9a-f]+) to 0x([0-9a-f]+), end=([0-9a-f]+)")


def uboot_bin() -> Path:
    """The machine's u-boot-qemu, or with a suite (LOADERTRUTH_SUITE) the suite's."""
    return suite_qemu_root() / str(UBOOT_BIN).lstrip("/") if suite() else UBOOT_BIN


def available(arch: str = "arm64") -> tuple[bool, str]:
    if arch != "arm64":
        return False, "U-Boot booti takes arm64 images only"
    if qemu() is None:
        return False, "qemu-system-aarch64 not installed (qemu-system-arm)"
    if not uboot_bin().is_file():
        return False, f"{uboot_bin()} missing (u-boot-qemu)"
    return True, ""


def version() -> str:
    return f"u-boot-qemu {versions().get('host', {}).get('u-boot-qemu', 'unknown')} (qemu_arm64)"


def command(image: Path) -> list[str]:
    return [
        qemu() or "qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57",
        "-m", str(RAM_MIB), "-nographic", "-nic", "none", "-monitor", "none",
        "-serial", "stdio", "-no-reboot", "-bios", str(uboot_bin()),
        "-device", f"loader,file={image},addr={LOAD_ADDR:#x},force-raw=on",
    ]


def classify(after: str) -> tuple[bool | None, str, dict]:
    """Verdict from the console text after the typed command."""
    observed: dict = {}
    lines = [ln.rstrip("\r") for ln in after.splitlines()]
    for ln in lines:
        m = _MOVE.search(ln)
        if m:
            observed["moved_from"] = int(m.group(1), 16)
            observed["moved_to"] = int(m.group(2), 16)
            observed["end"] = int(m.group(3), 16)
        if "Image lacks image_size field" in ln:
            observed["assumed_16mib"] = True
    for ln in lines:
        if ACCEPT in ln:
            if "moved_to" not in observed:
                observed["moved_to"] = None  # started where it was placed
            return True, ACCEPT, observed
        for r in REJECT:
            if r in ln:
                return False, ln.strip(), observed
    body = [ln for ln in lines[1:] if ln.strip() and not PROGRESS.match(ln)]
    if lines and any(ln.startswith("=>") for ln in lines[1:]):
        return False, (body[0].strip() if body else "booti returned to the prompt"), observed
    return None, "", observed


def run(image: Path, rel: str, arch: str = "arm64", sha: str | None = None) -> Verdict:
    v, ok = new_verdict("u-boot", image, rel, arch, sha, version(), available(arch))
    if not ok:
        return v
    env = dict(os.environ, LC_ALL="C")
    con = Console(command(image), env=env)
    deadline = time.monotonic() + TIMEOUT
    try:
        # stop autoboot: a key at the countdown, then wait for the prompt
        if con.wait_for(["Hit any key", "=> "], min(deadline, time.monotonic() + 10)) is None:
            v.message = "harness: no U-Boot prompt"
            v.log_tail = tail(con.text().splitlines())
            return v
        con.send("\n")
        if con.wait_for(["=> "], deadline) is None:
            v.message = "harness: no U-Boot prompt"
            v.log_tail = tail(con.text().splitlines())
            return v
        time.sleep(0.05)
        start = len(con.text())
        con.send(COMMAND + "\n")
        # the echo of the command, then a verdict or the prompt again
        con.wait_for([COMMAND], deadline, start)
        echo = con.text().find(COMMAND, start)
        start = echo if echo >= 0 else start
        extended = False
        while True:
            con.wait_for([ACCEPT, *REJECT, "\n=> "], min(deadline, time.monotonic() + 1.0),
                         start + len(COMMAND))
            after = con.text()[start:]
            # complete lines only: a verdict line may still be arriving
            accept, message, observed = classify(after[: after.rfind("\n") + 1])
            if accept is not None or time.monotonic() >= deadline or con.proc.poll() is not None:
                break
            if "moved_to" in observed and not extended:
                extended = True
                deadline = max(deadline, time.monotonic() + MOVE_TIMEOUT)
            time.sleep(0.05)
        v.accept, v.message, v.observed = accept, message, observed
        if accept is None:
            v.message = "harness: no verdict in time"
        text = con.text()[start:]
        if accept is not None and message in text:
            # cut at the verdict: what the started kernel or U-Boot prints after it
            # (timing-dependent) stays out of the record
            text = text[: text.index(message) + len(message)]
        v.log_tail = tail([ln.rstrip("\r") for ln in text.splitlines()])
    finally:
        v.seconds = round(con.elapsed(), 3)
        con.close()
    return v
