"""kexec-tools (Debian's arm64 and ppc64el builds) under qemu-user.

``kexec -d`` walks the real probe and load path and prints what it decided. The
final system call cannot succeed under qemu-user (it implements neither kexec_load
nor kexec_file_load and answers ENOSYS, so nothing is ever loaded into the host), and
that is the acceptance marker: an image is ACCEPTED when kexec-tools got as far as
the system call, REJECTED when it stopped before.

Markers (found empirically with 2.0.25-3+deb12u3, see README.md):

==================  ==========================================================
mode                accepted when the output has
==================  ==========================================================
``-l`` / ``-p``     ``kexec_load failed: Function not implemented`` (preceded by
                    the ``kexec_load: entry = ...`` segment list that ``-d``
                    prints just before the call)
``-s -l``           ``syscall kexec_file_load not available.`` (ENOSYS from the
                    call after the probe and ``image_arm64_load``'s file-mode
                    branch returned 0; kexec maps ENOSYS to "fall back")
==================  ==========================================================

Anything else is a rejection; the deciding line is the first one that matches
:data:`REJECT_PATTERNS`, else the last line printed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from . import fixtures
from .common import Verdict, new_verdict, run_guest, scrub, tail, versions, which

#: loader name -> (kexec arguments before the image, needs the DTB)
MODES = {
    "kexec-tools": (["-d", "-l"], True),
    "kexec-tools-file": (["-d", "-s", "-l"], False),
    "kexec-tools-crash": (["-d", "-p"], True),
}
QEMU = {"arm64": "aarch64", "ppc64el": "ppc64le"}
#: What qemu-user reports as the running kernel (uname -r) to the guest kexec.
UNAME_RELEASE = "6.1.0"
APPEND = "console=ttyAMA0 loadertruth"
TIMEOUT = 30.0

#: Lines that decide a rejection, in no particular order: the first one printed wins.
REJECT_PATTERNS = [
    re.compile(p)
    for p in (
        r"Cannot determine the file type",
        r"Cannot read ",
        r"Base address: .* is not page aligned",
        r"Could not find a free area",
        r"Overlapping memory segments",
        r"Memory for crashkernel is not reserved",
        r"Invalid ",
        r"[Nn]ot supported",
        r"ELF .*(too small|truncated|[Bb]ad|[Ii]nvalid)",
        r"setup_2nd_dtb failed",
        r"Creating eflcorehdr failed",
        r"Kernel segment is not allocated",
        r"Cannot load ",
        r"kexec: load failed",
        r"load failed",
    )
]
#: Output the harness drops before parsing: purgatory relocation chatter of ``-d``.
NOISE = re.compile(r"^(sym: |machine_apply_elf_rel: |sym:\s)")
#: Host (qemu-user heap) addresses of kexec's buffers: they move with the length of the
#: image path, so they are masked to keep results.json the same wherever DIR is.
_HOST_BUF = re.compile(r"^(segment\[\d+\]\.buf\s+= |kernel: )0x[0-9a-f]+")


def normalise(line: str, image: Path) -> str:
    return _HOST_BUF.sub(r"\1(host)", scrub(line, image))

_OBSERVE = [
    ("kernel_segment", re.compile(r"_load: kernel_segment:\s+([0-9a-f]+)"), 16),
    ("text_offset", re.compile(r"_load: text_offset:\s+([0-9a-f]+)"), 16),
    ("image_size", re.compile(r"_load: image_size:\s+([0-9a-f]+)"), 16),
    ("pe_format", re.compile(r"_load: PE format:\s+(\w+)"), None),
    ("run_at_load", re.compile(r"^run_at_load flag is ([0-9a-f]+)"), 16),
    ("kernel_addr", re.compile(r"^kernel is ([0-9a-f]+)"), 16),
    ("segment0_mem", re.compile(r"^segment\[0\]\.mem\s+= (0x[0-9a-f]+)"), 0),
    ("segment0_memsz", re.compile(r"^segment\[0\]\.memsz\s+= (0x[0-9a-f]+)"), 0),
]


def qemu_user(arch: str) -> str | None:
    q = QEMU[arch]
    return which(f"qemu-{q}-static") or which(f"qemu-{q}")


def debian_arch(arch: str) -> str:
    """Image arch (``arm64``/``ppc64``) -> the Debian build of kexec-tools to run."""
    return "ppc64el" if arch == "ppc64" else "arm64"


def available(arch: str = "arm64") -> tuple[bool, str]:
    """Can kexec-tools for ``arch`` run here? (ok, reason when not)."""
    darch = debian_arch(arch)
    if qemu_user(darch) is None:
        return False, f"qemu-{QEMU[darch]}(-static) not installed (loadertruth/install.sh)"
    if not (fixtures.root_dir(darch) / "sbin" / "kexec").is_file():
        how = f"install.sh suite {fixtures.suite()}" if fixtures.suite() else "install.sh"
        return False, f"kexec-tools:{darch} not unpacked (loadertruth/{how})"
    if darch == "arm64" and which("dtc") is None:
        return False, "dtc not installed (device-tree-compiler)"
    return True, ""


def version(arch: str) -> str:
    darch = debian_arch(arch)
    v = versions().get(darch, {}).get("kexec-tools", "unknown")
    if fixtures.suite() and darch == "arm64":
        return f"kexec-tools {v} ({darch}, Debian {fixtures.suite()})"
    return f"kexec-tools {v} ({darch})"


def command(loader: str, arch: str, image: Path, isolation: str = "prefix") -> list[str]:
    darch = debian_arch(arch)
    crash = loader == "kexec-tools-crash"
    args, wants_dtb = MODES[loader]
    root = fixtures.sysroot(darch, crash, isolation)
    qemu = qemu_user(darch)
    if qemu is None:
        raise FileNotFoundError(f"qemu-{QEMU[darch]} not installed")
    cmd = [qemu, "-r", UNAME_RELEASE, "-L", str(root), str(root / "sbin" / "kexec")]
    cmd += args + [str(image)]
    if wants_dtb and darch == "arm64":
        cmd += ["--dtb", str(fixtures.arm64_dtb())]
    cmd += [f"--append={APPEND}"]
    if isolation == "mount":
        binds = fixtures.bind_mounts(darch, crash)
        script = "".join(f'mount --bind "{src}" "{dst}" && ' for dst, src in binds.items())
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               script + 'exec "$@"', "sh"] + cmd
    return cmd


def classify(loader: str, lines: list[str]) -> tuple[bool | None, str, dict]:
    """(accept, deciding line, observed) from kexec's filtered output lines."""
    observed: dict = {}
    probes = [ln for ln in lines if re.match(r"^\w+_probe: ", ln)]
    if probes:
        observed["probes"] = probes
    loads = sorted({m.group(1) for ln in lines if (m := re.match(r"^(\w+_load):", ln))}
                   - {"kexec_load"})
    if loads:
        observed["load_functions"] = loads
    warnings = [ln.strip() for ln in lines if "Warning" in ln and "kcore" not in ln]
    if warnings:
        observed["warnings"] = warnings
    for key, rx, base in _OBSERVE:
        for ln in lines:
            m = rx.search(ln)
            if m:
                observed[key] = m.group(1) if base is None else int(m.group(1), base)
                break

    if loader == "kexec-tools-file":
        for ln in lines:
            if ln.startswith("syscall kexec_file_load not available") or ln.startswith(
                "kexec_file_load failed:"
            ):
                observed["syscall"] = ln
                return True, ln, observed
    else:
        for ln in lines:
            if ln.startswith("kexec_load failed:"):
                observed["syscall"] = ln
                entry = next((x for x in lines if x.startswith("kexec_load: entry =")), ln)
                return True, entry, observed
    for ln in lines:
        if any(p.search(ln) for p in REJECT_PATTERNS):
            return False, ln, observed
    last = tail(lines, 1)
    observed["unrecognised"] = True
    return False, (last[0] if last else "(no output)"), observed


def run(loader: str, image: Path, rel: str, arch: str | None = None,
        isolation: str = "prefix", sha: str | None = None) -> Verdict:
    """Run one kexec-tools mode on one image."""
    from .common import sniff_arch

    arch = arch or sniff_arch(image)
    v, ok = new_verdict(loader, image, rel, arch, sha, version(arch), available(arch))
    if not ok:
        return v
    cmd = command(loader, arch, image, isolation)
    env = {k: val for k, val in os.environ.items() if not k.startswith("QEMU_")}
    env["LC_ALL"] = "C"
    t0 = time.monotonic()
    try:
        p = run_guest(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                      stderr=subprocess.STDOUT, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired as e:
        v.seconds = round(time.monotonic() - t0, 3)
        out = (e.stdout or b"").decode("utf-8", "replace").splitlines()
        v.message = f"harness: timeout after {TIMEOUT:.0f} s"
        v.log_tail = tail([normalise(ln, image) for ln in out if not NOISE.match(ln)])
        return v
    v.seconds = round(time.monotonic() - t0, 3)
    raw = p.stdout.decode("utf-8", "replace").splitlines()
    lines = [normalise(ln, image) for ln in raw if not NOISE.match(ln)]
    v.log_tail = tail(lines)
    if p.returncode < 0 or p.returncode in (128 + signal.SIGSEGV, 128 + signal.SIGABRT):
        v.message = f"harness: kexec died (status {p.returncode})"
        return v
    v.accept, v.message, v.observed = classify(loader, lines)
    v.observed["exit_status"] = p.returncode
    return v
