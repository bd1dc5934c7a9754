"""UEFI firmware (Debian qemu-efi-aarch64, EDK2) under qemu-system-aarch64.

The image is the only file on a FAT disk (QEMU's vvfat over a scratch directory), as
``\\EFI\\BOOT\\BOOTAA64.EFI``: the removable-media path that EDK2's boot manager
(BdsDxe) tries on its own, so no shell script is involved. Verdict:

==============================================  =====================================
console                                         verdict
==============================================  =====================================
``BdsDxe: starting Boot0001 ...``               accepted: LoadImage() took the PE and
                                                StartImage() is called; ``observed``
                                                says whether the kernel's EFI stub then
                                                printed ``EFI stub: ...``
``BdsDxe: failed to load Boot0001 ...: STATUS``  rejected, with EDK2's status
                                                (``Unsupported``, ``Load Error``, ...)
neither within the time limit                   None
==============================================  =====================================

A materialised corpus excerpt is sparse (zeros outside the header ranges): the
firmware loads it, but its stub is zeros, so ``stub_ran`` is false there; only full
kernels (``variants --full-debian``, cross-built ones) can show the stub.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from .common import CACHE, Verdict, new_verdict, qemu, suite, suite_qemu_root, tail, versions
from .console import Console

#: The machine's EDK2 (Debian 12's qemu-efi-aarch64 2022.11); with a suite, the suite's
#: (``firmware``), which install.sh suite SUITE unpacks beside the suite's QEMU.
FIRMWARE_IN_ROOT = Path("usr/share/qemu-efi-aarch64/QEMU_EFI.fd")
FIRMWARE = Path("/") / FIRMWARE_IN_ROOT
RAM_MIB = 2048
TIMEOUT = 40.0
#: after "starting", how long to wait for the stub's first line
STUB_WAIT = 8.0
#: BdsDxe's line when StartImage() returned (the image, e.g. systemd-stub refusing its
#: .linux, gave up): no stub line can follow, so the wait for one ends there
RETURNED = "BdsDxe: failed to start"

_ANSI = re.compile(r"\x1b\[[0-9;?=]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
STARTING = re.compile(r"BdsDxe: starting (Boot\w+)")
FAILED = re.compile(r"BdsDxe: failed to load (Boot\w+) .*?: (.+)$")
STUB = "EFI stub: "
#: "starting" for our disk: the vvfat disk is "UEFI Misc Device" (virtio-blk-device)
OUR_DEVICE = "UEFI Misc Device"


def firmware() -> Path:
    """The EDK2 that runs: the machine's, or with ``$LOADERTRUTH_SUITE`` that suite's
    (its QEMU_EFI.fd, started with ``-bios`` as Debian 12's is)."""
    return suite_qemu_root() / FIRMWARE_IN_ROOT if suite() else FIRMWARE


def available(arch: str = "arm64") -> tuple[bool, str]:
    if arch != "arm64":
        return False, "the EDK2 build here is arm64 (qemu-efi-aarch64)"
    if qemu() is None:
        return False, "qemu-system-aarch64 not installed (qemu-system-arm)"
    if not firmware().is_file():
        how = f"install.sh suite {suite()}" if suite() else "qemu-efi-aarch64"
        return False, f"{firmware()} missing ({how})"
    return True, ""


def version() -> str:
    return f"qemu-efi-aarch64 {versions().get('host', {}).get('qemu-efi-aarch64', 'unknown')}"


def command(fatdir: Path) -> list[str]:
    return [
        qemu() or "qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57",
        "-m", str(RAM_MIB), "-nographic", "-nic", "none", "-monitor", "none",
        "-serial", "stdio", "-no-reboot", "-bios", str(firmware()),
        "-drive", f"if=none,id=d0,format=raw,readonly=on,file=fat:{fatdir}",
        "-device", "virtio-blk-device,drive=d0",
    ]


def clean(text: str) -> list[str]:
    return [ln for ln in _ANSI.sub("", text).splitlines()]


def classify(lines: list[str]) -> tuple[bool | None, str, dict]:
    observed: dict = {}
    for ln in lines:
        m = FAILED.search(ln)
        if m and OUR_DEVICE in ln:
            observed["status"] = m.group(2).strip()
            return False, ln.strip(), observed
        if STARTING.search(ln) and OUR_DEVICE in ln:
            stub = [x.strip() for x in lines if x.startswith(STUB)]
            observed["stub_ran"] = bool(stub)
            return True, (stub[0] if stub else ln.strip()), observed
    return None, "", observed


def wait_line_end(con: Console, needle: str, deadline: float) -> None:
    """Wait until the line holding ``needle`` is complete (or the deadline)."""
    while time.monotonic() < deadline:
        t = con.text()
        i = t.find(needle)
        if i >= 0 and "\n" in t[i:]:
            return
        time.sleep(0.02)


def run(image: Path, rel: str, arch: str = "arm64", sha: str | None = None) -> Verdict:
    v, ok = new_verdict("efi", image, rel, arch, sha, version(), available(arch))
    if not ok:
        return v
    with _started(image) as con:
        deadline = time.monotonic() + TIMEOUT
        try:
            hit = con.wait_for(["BdsDxe: starting", "BdsDxe: failed to load"], deadline)
            if hit is not None:
                # the whole verdict line, not a part of it
                wait_line_end(con, hit, deadline)
            if hit == "BdsDxe: starting":
                stub_deadline = min(deadline, time.monotonic() + STUB_WAIT)
                if con.wait_for([STUB, RETURNED], stub_deadline) == STUB:
                    wait_line_end(con, STUB, stub_deadline)
            text = con.text()
            lines = clean(text[: text.rfind("\n") + 1])
            v.accept, v.message, v.observed = classify(lines)
            if v.accept is None:
                v.message = f"harness: no boot-manager verdict within {TIMEOUT:.0f} s"
            else:
                # cut at the deciding line: later output depends on timing
                last = next(i for i, ln in enumerate(lines) if ln.strip() == v.message)
                lines = lines[: last + 1]
            v.log_tail = tail([ln for ln in lines if "UEFI firmware (version" not in ln])
        finally:
            v.seconds = round(con.elapsed(), 3)
    return v


def _started(image: Path):
    """The firmware under QEMU with ``image`` as \\EFI\\BOOT\\BOOTAA64.EFI on its disk."""
    return started({BOOT_FILE: image})


#: The removable-media boot file the boot manager tries on its own.
BOOT_FILE = "EFI/BOOT/BOOTAA64.EFI"


@contextlib.contextmanager
def started(files: dict[str, Path | str], prefix: str = "efi-"):
    """The firmware under QEMU with a FAT disk that holds ``files`` ({path on the disk:
    a file to link or copy there, or the text to write}): its Console, closed and the disk
    removed on the way out."""
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=prefix, dir=CACHE))
    try:
        for name, what in files.items():
            target = scratch / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(what, str):
                target.write_text(what)
                continue
            try:
                os.link(what, target)
            except OSError:
                shutil.copyfile(what, target)
        con = Console(command(scratch), env=dict(os.environ, LC_ALL="C"))
        try:
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


#: The kernel's own line with the command line it was started with (init/main.c)
CMDLINE = "Kernel command line: "


def kernel_cmdline(image: Path, timeout: float = 90.0) -> str | None:
    """Boot ``image`` (a UKI around a full kernel) as above and return the command line
    the kernel says it got, or None when it says none within ``timeout`` seconds: what
    systemd-stub passed on from the ``.cmdline`` it chose."""
    with _started(image) as con:
        deadline = time.monotonic() + timeout
        if con.wait_for([CMDLINE], deadline) is None:
            return None
        wait_line_end(con, CMDLINE, deadline)
        line = next(ln for ln in clean(con.text()) if CMDLINE in ln)
        return line.split(CMDLINE, 1)[1].strip()
