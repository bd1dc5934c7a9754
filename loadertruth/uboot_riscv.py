"""U-Boot ``booti`` on riscv64 (Debian 12's u-boot-qemu 2023.01 and Debian 13's 2025.01,
qemu-riscv64_smode, on QEMU's OpenSBI) under qemu-system-riscv64 -M virt: the riscv half
of loadertruth/uboot.py.

The image is placed in RAM by QEMU (``-device loader,...,force-raw=on``) at
``kernel_addr_r`` (0x84000000 on qemu-riscv64); the harness stops autoboot, types
``booti 0x84000000 - ${fdtcontroladdr}`` and reads the verdict as loadertruth/uboot.py
does: "Starting kernel ..." accepts, "Bad Linux RISCV Image magic!" and any other error
before the prompt returns reject. (The M-mode build, qemu-riscv64, stops after "No RNG
device" without starting anything; the S-mode one starts the real Debian Image, which
runs up to its root-fs panic.) u-boot.bin comes from the trixie u-boot-qemu that
``loadertruth/install.sh suite trixie`` unpacks (nothing is installed), QEMU is Debian
12's qemu-system-misc (``install.sh riscv`` installs it when missing).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .common import CACHE, REPO, Verdict, new_verdict, tail, which
from .console import Console
from .uboot import ACCEPT, classify

_SMODE = "usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
#: U-Boot release -> its S-mode u-boot.bin: Debian 12's u-boot-qemu 2023.01 (unpacked by
#: ``install.sh riscv`` into build/riscv/u-boot-bookworm) and Debian 13's 2025.01 (by
#: ``install.sh suite trixie``).
BINARIES = {"2023.01": REPO / "build/riscv/u-boot-bookworm/root" / _SMODE,
            "2025.01": CACHE / "root-amd64-trixie-qemu" / _SMODE}
UBOOT_BIN = BINARIES["2025.01"]
LOAD_ADDR = 0x84000000
RAM_MIB = 2048
TIMEOUT = 30.0
COMMAND = f"booti {LOAD_ADDR:#x} - ${{fdtcontroladdr}}"
#: U-Boot's own refusals, and its trap handler's first line (a crash moving the image)
REJECT = ["Bad Linux RISCV Image magic!", "Image lacks image_size field, error!",
          "kernel_comp_addr_r or kernel_comp_size is not provided!", "ERROR: ",
          "Unhandled exception"]


def qemu() -> str | None:
    return which("qemu-system-riscv64")


def available(release: str = "2025.01") -> tuple[bool, str]:
    if qemu() is None:
        return False, "qemu-system-riscv64 not installed (qemu-system-misc)"
    if not BINARIES[release].is_file():
        how = "riscv" if release == "2023.01" else "suite trixie"
        return False, f"{BINARIES[release]} missing (loadertruth/install.sh {how})"
    return True, ""


def version(release: str = "2025.01") -> str:
    debian = {"2023.01": "Debian 12", "2025.01": "Debian 13"}[release]
    return f"u-boot-qemu {release} ({debian}, qemu-riscv64_smode)"


def command(image: Path, release: str = "2025.01") -> list[str]:
    return [qemu() or "qemu-system-riscv64", "-machine", "virt", "-m", str(RAM_MIB),
            "-nographic", "-nic", "none", "-monitor", "none", "-serial", "stdio",
            "-no-reboot", "-bios", "default", "-kernel", str(BINARIES[release]),
            "-device", f"loader,file={image},addr={LOAD_ADDR:#x},force-raw=on"]


def _classify(after: str):
    accept, message, observed = classify(after)
    if accept is None:
        for ln in after.splitlines():
            if any(r in ln for r in REJECT):
                return False, ln.strip(), observed
    return accept, message, observed


def run(image: Path, rel: str, sha: str | None = None, release: str = "2025.01") -> Verdict:
    v, ok = new_verdict("u-boot", image, rel, "riscv64", sha, version(release),
                        available(release))
    if not ok:
        return v
    con = Console(command(image, release), env=dict(os.environ, LC_ALL="C"))
    deadline = time.monotonic() + TIMEOUT
    try:
        if con.wait_for(["Hit any key", "=> "], deadline) is None:
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
        con.wait_for([COMMAND], deadline, start)
        echo = con.text().find(COMMAND, start)
        start = echo if echo >= 0 else start
        accept, message, observed = None, "", {}
        while time.monotonic() < deadline and con.proc.poll() is None:
            con.wait_for([ACCEPT, *REJECT, "\n=> "], min(deadline, time.monotonic() + 1.0),
                         start + len(COMMAND))
            after = con.text()[start:]
            accept, message, observed = _classify(after[: after.rfind("\n") + 1])
            if accept is not None:
                break
            time.sleep(0.05)
        v.accept, v.message, v.observed = accept, message, observed
        if accept is None:
            v.message = "harness: no verdict in time"
        text = con.text()[start:]
        if accept is not None and message in text:
            text = text[: text.index(message) + len(message)]
        v.log_tail = tail([ln.rstrip("\r") for ln in text.splitlines()])
    finally:
        v.seconds = round(con.elapsed(), 3)
        con.close()
    return v
