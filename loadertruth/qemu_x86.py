"""QEMU's own x86 ``-kernel`` loader (hw/i386/x86.c x86_load_linux, Debian 12's QEMU
7.2, qemu-system-x86_64 with SeaBIOS) on x86 bzImages.

QEMU reads the setup header, copies the real-mode part and the kernel into fw_cfg and
hands them to the linuxboot option ROM. It refuses a file it cannot split ("qemu:
invalid kernel header": fewer bytes than (setup_sects + 1) * 512) with exit status 1,
before the guest runs. ACCEPTED: no "qemu" error line and the firmware got as far as
"Booting from ROM..." (the option ROM that starts the kernel) on the serial port within
``TIMEOUT`` seconds (the run is stopped there); REJECTED: QEMU's error line. What the
kernel does afterwards (a materialised excerpt has no payload) is not asked. Needs
qemu-system-x86 (Debian package), which loadertruth/install.sh ``x86`` installs.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from .common import Verdict, new_verdict, which

TIMEOUT = 6.0
MARKER = "Booting from ROM"


def qemu() -> str | None:
    return which("qemu-system-x86_64")


def available() -> tuple[bool, str]:
    if qemu() is None:
        return False, "qemu-system-x86_64 not installed (qemu-system-x86)"
    return True, ""


def version() -> str:
    out = subprocess.run([qemu(), "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "qemu-system-x86_64"


def run(image: Path, rel: str, sha: str | None = None) -> Verdict:
    v, ok = new_verdict("qemu", image, rel, "x86_64", sha,
                        version() if available()[0] else "", available())
    if not ok:
        return v
    with tempfile.TemporaryDirectory(prefix="kimage-qemu-x86-") as tmp:
        serial = Path(tmp) / "serial"
        cmd = [qemu(), "-M", "q35", "-m", "512", "-no-reboot", "-nographic",
               "-monitor", "none", "-serial", f"file:{serial}", "-kernel", str(image),
               "-append", "console=ttyS0"]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        out, status = "", None
        while time.monotonic() - t0 < TIMEOUT:  # until the marker, an exit or the budget
            status = proc.poll()
            out = serial.read_text(errors="replace") if serial.exists() else ""
            if status is not None or MARKER in out:
                break
            time.sleep(0.1)
        if proc.poll() is None:  # started (or undecided): this run's QEMU is stopped
            proc.terminate()
        try:
            err = proc.communicate(timeout=5)[1].decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            proc.kill()
            err = proc.communicate()[1].decode("utf-8", "replace")
        v.seconds = round(time.monotonic() - t0, 3)
    errors = [ln.strip() for ln in err.splitlines()
              if ln.startswith("qemu") and "terminating on signal" not in ln]
    v.observed = {"exit_status": status, "started": MARKER in out}
    if errors:
        v.accept, v.message = False, errors[0]
    elif MARKER in out:
        v.accept, v.message = True, f"{MARKER}... (the linuxboot option ROM starts the kernel)"
    else:
        v.message = "harness: neither a QEMU error nor the firmware's marker"
    return v
