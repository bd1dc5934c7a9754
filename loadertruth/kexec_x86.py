"""kexec-tools for amd64 (Debian 12's 2.0.25) under qemu-x86_64 user mode, on x86
bzImages: the x86 half of loadertruth/kexec.py.

``kexec -d -l`` and ``kexec -d -p`` run the real probes (bzImage64, then bzImage) and
loaders up to the system call; qemu-user implements no kexec_load and answers ENOSYS,
so nothing is loaded into the host, and "kexec_load failed: Function not implemented"
is the acceptance marker (loadertruth/kexec.py ``classify``). ``-s`` is not run: on
x86 kexec-tools hands the file to kexec_file_load without probing it itself.

The machine is a fixture sysroot (the ``-L`` prefix qemu-user resolves absolute paths
in first, see loadertruth/fixtures.py): 2 GiB of RAM in /proc/iomem and
/sys/firmware/memmap (x86 kexec-tools prefers the latter for ``-l``, and without it in
the prefix would read the host's), in crash mode a 256 MiB "Crash kernel" at
0x30000000, a /proc/kcore whose PT_LOADs map the direct map and the kernel text at
_stext (``-p`` reads them, kexec/arch/i386/crashdump-x86.c get_kernel_vaddr_and_size)
and a /proc/kallsyms naming _stext. The kexec-tools package and the Xen libraries it
links (libxenmisc4.17 and its libxen* dependencies) are unpacked with ``dpkg-deb -x``
into build/x86/root by loadertruth/install.sh (``x86``); nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

from .common import REPO, Verdict, new_verdict, run_guest, tail, which
from .kexec import APPEND, NOISE, TIMEOUT, UNAME_RELEASE, classify, normalise

ROOT = Path(os.environ.get("LOADERTRUTH_X86", REPO / "build" / "x86")) / "root"
MODES = {"kexec-tools": ["-d", "-l"], "kexec-tools-crash": ["-d", "-p"]}
RAM = [(0x0, 0xFFF, "Reserved"), (0x1000, 0x9FBFF, "System RAM"),
       (0x9FC00, 0x9FFFF, "Reserved"), (0xF0000, 0xFFFFF, "Reserved"),
       (0x100000, 0x7FFFFFFF, "System RAM")]
CRASH = (0x30000000, 0x3FFFFFFF)
STEXT = 0xFFFFFFFF81000000
DIRECT_MAP = 0xFFFF888000000000


def qemu() -> str | None:
    return which("qemu-x86_64-static") or which("qemu-x86_64")


def available() -> tuple[bool, str]:
    if qemu() is None:
        return False, "qemu-x86_64(-static) not installed (qemu-user-static)"
    if not (ROOT / "sbin" / "kexec").is_file():
        return False, f"kexec-tools:amd64 not unpacked in {ROOT} (loadertruth/install.sh x86)"
    if not (ROOT / "usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17").exists():
        return False, f"libxenmisc4.17 not unpacked in {ROOT} (loadertruth/install.sh x86)"
    return True, ""


def version() -> str:
    status = ROOT.parent / "kexec-tools.version"
    return f"kexec-tools {status.read_text().strip() if status.is_file() else '2.0.25'} (amd64)"


def _kcore() -> bytes:
    """An ELF64 core header: PT_LOADs of the direct map (2 GiB) and of the kernel text."""
    loads = [(DIRECT_MAP, 0, 0x80000000), (STEXT, 0x1000000, 0x2000000)]
    ehdr = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, len(loads), 0, 0, 0)
    return ehdr + b"".join(struct.pack("<IIQQQQQQ", 1, 7, 0x1000, va, pa, size, size, 0x1000)
                           for va, pa, size in loads)


def fixture_files(crash: bool) -> dict[str, bytes]:
    iomem = [f"{a:08x}-{b:08x} : {t}" for a, b, t in RAM]
    iomem += ["  01000000-01ffffff : Kernel code", "  02000000-028fffff : Kernel data"]
    if crash:
        iomem.append(f"  {CRASH[0]:08x}-{CRASH[1]:08x} : Crash kernel")
    files = {"/proc/iomem": ("\n".join(iomem) + "\n").encode(),
             "/proc/kcore": _kcore(),
             "/proc/kallsyms": f"{STEXT:016x} T _text\n{STEXT:016x} T _stext\n".encode(),
             "/sys/kernel/vmcoreinfo": b"0x000000007f000000 1024\n"}
    for i, (a, b, t) in enumerate(RAM):
        for name, value in (("start", f"{a:#x}"), ("end", f"{b:#x}"), ("type", t)):
            files[f"/sys/firmware/memmap/{i}/{name}"] = (value + "\n").encode()
    return files


def sysroot(crash: bool) -> Path:
    """The ``-L`` prefix for a mode: symlinks to ROOT's directories and the fixtures
    (created once, under build/x86)."""
    path = ROOT.parent / f"sysroot-{'crash' if crash else 'normal'}"
    if (path / ".loadertruth").is_file():
        return path
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for entry in sorted(ROOT.iterdir()):
        (tmp / entry.name).symlink_to(os.path.relpath(entry, tmp))
    for host_path, content in fixture_files(crash).items():
        p = tmp / host_path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    (tmp / ".loadertruth").write_text("fixture sysroot for loadertruth (x86)\n")
    if not (path / ".loadertruth").is_file():
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    else:  # another worker made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def command(loader: str, image: Path) -> list[str]:
    root = sysroot(loader == "kexec-tools-crash")
    return [qemu(), "-r", UNAME_RELEASE, "-L", str(root), str(root / "sbin" / "kexec"),
            *MODES[loader], str(image), f"--append={APPEND}"]


def run(loader: str, image: Path, rel: str, sha: str | None = None) -> Verdict:
    """Run one kexec-tools mode (``kexec-tools``: -l, ``kexec-tools-crash``: -p) on one
    image; observed: the probes' and loaders' lines, the load addresses."""
    v, ok = new_verdict(loader, image, rel, "x86_64", sha, version(), available())
    if not ok:
        return v
    env = {k: val for k, val in os.environ.items() if not k.startswith("QEMU_")}
    env["LC_ALL"] = "C"
    t0 = time.monotonic()
    try:
        p = run_guest(command(loader, image), stdin=subprocess.DEVNULL,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                      timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        v.seconds = round(time.monotonic() - t0, 3)
        v.message = f"harness: timeout after {TIMEOUT:.0f} s"
        return v
    v.seconds = round(time.monotonic() - t0, 3)
    lines = [normalise(ln, image) for ln in p.stdout.decode("utf-8", "replace").splitlines()
             if not NOISE.match(ln)]
    v.log_tail = tail(lines)
    if p.returncode < 0:
        v.message = f"harness: kexec died (status {p.returncode})"
        return v
    v.accept, v.message, v.observed = classify(loader, lines)
    for ln in lines:  # "Loaded 64bit kernel at 0x7c000000" (bzImage64) or "32bit" (bzImage)
        if ln.startswith("Loaded ") and " kernel at 0x" in ln:
            v.observed["kernel_loader"] = ln.split()[1]
            v.observed["kernel_addr"] = int(ln.rsplit(" ", 1)[1], 16)
        elif ln.startswith("BzImage") or ln.startswith("Cannot load"):
            v.observed.setdefault("refusal", ln)
    v.observed["exit_status"] = p.returncode
    return v


#: Variants of a real bzImage: name -> (offset, bytes written there) or a length to cut
#: the file to; the class names what was changed.
def variants(data: bytes) -> dict[str, tuple[str, bytes]]:
    """name -> (class, the variant's bytes) for a bzImage ``data``."""
    def put(offset: int, value: bytes) -> bytes:
        return data[:offset] + value + data[offset + len(value):]

    h16 = lambda v: struct.pack("<H", v)  # noqa: E731
    setup = (data[0x1F1] or 4) + 1
    return {
        "original": ("original", data),
        "boot-flag-0": ("boot-flag", put(0x1FE, b"\0\0")),
        "hdrs-broken": ("magic", put(0x202, b"HdrT")),
        "loadflags-0": ("loadflags", put(0x211, b"\0")),
        "protocol-2.11": ("protocol", put(0x206, h16(0x020B))),
        "protocol-2.02": ("protocol", put(0x206, h16(0x0202))),
        "protocol-1.ff": ("protocol", put(0x206, h16(0x01FF))),
        "xlf-kernel64-only": ("xloadflags", put(0x236, h16(0x0001))),
        "xlf-0": ("xloadflags", put(0x236, h16(0x0000))),
        "relocatable-0": ("relocatable", put(0x234, b"\0")),
        "relocatable-0-xlf-0": ("relocatable", put(0x234, b"\0")[:0x236] + h16(0)
                                + data[0x238:]),
        "setup-cut": ("truncated", data[:setup * 512 - 0x200]),
        "header-cut": ("truncated", data[:0x3F0]),
    }
