"""GRUB's ``linux`` command on arm64 EFI: Debian's signed GRUB (grub-efi-arm64-signed's
``grubaa64.efi.signed``, the monolithic image distributions boot) under the suite's EDK2
(loadertruth/efi.py) in qemu-system-aarch64.

The FAT disk holds GRUB as ``\\EFI\\BOOT\\BOOTAA64.EFI``, the image as ``\\k`` and a
``grub.cfg`` beside GRUB (its built-in config sources ``$cmdpath/grub.cfg`` when it
finds no ``/boot/grub``) that runs::

    linux /k
    boot

with a marker line before each step. Verdict, from the console after the first marker:

- ``KLT-GRUB loaded``: accepted, ``linux`` took the image and ``boot`` was called
  (``observed.stub_ran``: the kernel's EFI stub printed);
- ``KLT-GRUB refused``: rejected, with GRUB's ``error: ...`` line;
- ``KLT-GRUB boot-returned`` with no stub line: rejected, ``boot`` came back before a
  stub ran (the firmware's LoadImage refused the PE GRUB handed it: "cannot load image";
  or ``linux`` returned without loading anything, as 2.06 does for a file shorter than
  the header: "you need to load the kernel first");
- EDK2's ``Synchronous Exception at ...`` before ``loaded``: rejected, GRUB crashed
  reading the image (``observed.crashed``);
- none of them within the time limit: None.

GRUB has no Secure Boot here (EDK2's empty variable store), so shim is not involved and
the signed image runs as it would with Secure Boot off.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from . import efi
from .common import CACHE, Verdict, new_verdict, suite, tail

#: Debian's signed monolithic GRUB, unpacked by install.sh (machine: root-grub; a suite:
#: root-grub-SUITE)
GRUB_IN_ROOT = Path("usr/lib/grub/arm64-efi-signed/grubaa64.efi.signed")
TIMEOUT = 60.0
MARK = "KLT-GRUB "
CONFIG = f"""set timeout=0
set pager=0
echo "{MARK}linux"
if linux /k; then
  echo "{MARK}loaded"
  boot
  echo "{MARK}boot-returned"
else
  echo "{MARK}refused"
fi
"""
_ERROR = re.compile(r"^error: (.+)$")
#: EDK2's line when GRUB itself faults (its exception handler then loops): Debian's 2.06
#: reads the PE header at the Image's pe_offset without a bound (found here)
CRASH = "Synchronous Exception at "


def root() -> Path:
    return CACHE / (f"root-grub-{suite()}" if suite() else "root-grub")


def binary() -> Path:
    return root() / GRUB_IN_ROOT


def available(arch: str = "arm64") -> tuple[bool, str]:
    if arch != "arm64":
        return False, "GRUB runs here as arm64-efi only"
    ok, why = efi.available(arch)
    if not ok:
        return ok, why
    if not binary().is_file():
        how = f"install.sh suite {suite()}" if suite() else "install.sh grub"
        return False, f"{binary()} missing ({how})"
    return True, ""


def version() -> str:
    """Debian's package version (install.sh grub_root's .version), and the EDK2 under it."""
    try:
        v = (root() / ".version").read_text().strip()
    except OSError:
        v = "unknown"
    return f"grub-efi-arm64-signed {v} ({efi.version()})"


def classify(lines: list[str]) -> tuple[bool | None, str, dict]:
    """(accept, message, observed) from the console, read from GRUB's first marker on
    (the built-in config's searches for /.disk/info fail before it)."""
    observed: dict = {}
    first = next((i for i, ln in enumerate(lines) if ln.strip().startswith(MARK)), None)
    if first is None:
        return None, "", observed
    lines = lines[first:]
    errors = [m.group(1).strip() for ln in lines if (m := _ERROR.match(ln.strip()))]
    if errors:
        observed["errors"] = errors
    marks = [ln.strip()[len(MARK):] for ln in lines if ln.strip().startswith(MARK)]
    crash = next((ln.strip() for ln in lines if ln.strip().startswith(CRASH)), None)
    if crash is not None and "loaded" not in marks:
        observed["crashed"] = True
        return False, f"GRUB crashed in linux: {crash}", observed
    if "refused" in marks:
        return False, (f"error: {errors[-1]}" if errors else "linux failed"), observed
    if "loaded" in marks:
        stub = [x.strip() for x in lines if x.startswith(efi.STUB)]
        observed["stub_ran"] = bool(stub)
        if "boot-returned" in marks and not stub:
            # ``boot`` came back before any stub ran: the firmware's LoadImage refused the
            # PE GRUB handed it ("cannot load image"), which is GRUB refusing the kernel
            return False, (f"error: {errors[-1]}" if errors else "boot returned"), observed
        if "boot-returned" in marks:
            observed["boot_returned"] = errors[-1] if errors else True
        return True, (stub[0] if stub else "linux: loaded"), observed
    return None, "", observed


def run(image: Path, rel: str, arch: str = "arm64", sha: str | None = None) -> Verdict:
    v, ok = new_verdict("grub", image, rel, arch, sha, version(), available(arch))
    if not ok:
        return v
    with _started(image) as con:
        deadline = time.monotonic() + TIMEOUT
        try:
            hit = con.wait_for([f"{MARK}loaded", f"{MARK}refused", CRASH], deadline)
            if hit is not None:  # the whole deciding line
                efi.wait_line_end(con, hit, deadline)
            if hit == f"{MARK}loaded":  # then the kernel's EFI stub, as efi waits for it
                stub_deadline = min(deadline, time.monotonic() + efi.STUB_WAIT)
                said = con.wait_for([efi.STUB, f"{MARK}boot-returned"], stub_deadline)
                if said is not None:
                    efi.wait_line_end(con, said, stub_deadline)
            text = con.text()
            lines = efi.clean(text[: text.rfind("\n") + 1])
            v.accept, v.message, v.observed = classify(lines)
            if v.accept is None:
                v.message = f"harness: no GRUB verdict within {TIMEOUT:.0f} s"
            # up to the last deciding line: GRUB's prompt after a refusal, or the kernel
            # after its stub, depend on timing
            last = max((i for i, ln in enumerate(lines) if ln.strip().startswith(MARK)
                        or ln.startswith(efi.STUB) or ln.strip().startswith(CRASH)),
                       default=-1)
            v.log_tail = tail([ln for ln in (lines[: last + 1] if last >= 0 else lines)
                               if ln.strip()
                               and "UEFI firmware (version" not in ln])
        finally:
            v.seconds = round(con.elapsed(), 3)
    return v


def _started(image: Path):
    """EDK2 under QEMU booting GRUB from a FAT disk that holds ``image`` as \\k."""
    return efi.started({efi.BOOT_FILE: binary(), "EFI/BOOT/grub.cfg": CONFIG, "k": image},
                       prefix="grub-")
