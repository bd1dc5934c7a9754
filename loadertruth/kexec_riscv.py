"""kexec-tools for riscv64 (Debian unstable's 2.0.32, the first release with a riscv
port) under qemu-riscv64 user mode, on riscv64 Images: the riscv half of
loadertruth/kexec.py.

``kexec -d -l`` and ``kexec -d -p`` run the real probes (elf-riscv, then image-riscv) and
loaders up to the system call: plain ``-l``/``-p`` of 2.0.32 tries kexec_file_load
first, which qemu-user answers ENOSYS, so kexec-tools falls back to its own loader and
then kexec_load, answered ENOSYS too: "kexec_load failed: Function not implemented" is the
acceptance marker (loadertruth/kexec.py ``classify``); nothing is loaded into the host.

The machine is a fixture sysroot (the ``-L`` prefix qemu-user resolves absolute paths in
first): 2 GiB of RAM at 0x80000000 in /proc/iomem with the running kernel's image, code,
data and bss below it (crash mode needs them for the elfcorehdr), in crash mode a 256 MiB
"Crash kernel" at 0xc0000000, a /sys/firmware/fdt (the riscv loader takes the running
machine's DTB when no --dtb is given) compiled with dtc, and /sys/kernel/vmcoreinfo.
kexec-tools:riscv64 and the libc it links are unpacked with ``dpkg-deb -x`` into
build/riscv/root by loadertruth/install.sh (``riscv``); nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

from .common import REPO, Verdict, new_verdict, run_guest, tail, which
from .kexec import NOISE, TIMEOUT, UNAME_RELEASE, classify, normalise

BASE = Path(os.environ.get("LOADERTRUTH_RISCV", REPO / "build" / "riscv"))
ROOT = BASE / "root"
MODES = {"kexec-tools": ["-d", "-l"], "kexec-tools-crash": ["-d", "-p"]}
APPEND = "console=ttyS0 loadertruth"
IOMEM = ["80000000-ffffffff : System RAM", "  80200000-81ffffff : Kernel image",
         "    80200000-80ffffff : Kernel code", "    81000000-817fffff : Kernel data",
         "    81800000-81ffffff : Kernel bss"]
CRASH = "  c0000000-cfffffff : Crash kernel"
DTS = """/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	compatible = "riscv-virtio";
	model = "riscv-virtio,qemu";
	chosen { bootargs = "console=ttyS0"; };
	memory@80000000 { device_type = "memory"; reg = <0x0 0x80000000 0x0 0x80000000>; };
	cpus { #address-cells = <1>; #size-cells = <0>; timebase-frequency = <10000000>;
		cpu@0 { device_type = "cpu"; reg = <0>; compatible = "riscv";
			riscv,isa = "rv64imafdc"; }; };
};
"""


def qemu() -> str | None:
    return which("qemu-riscv64-static") or which("qemu-riscv64")


def available() -> tuple[bool, str]:
    if qemu() is None:
        return False, "qemu-riscv64(-static) not installed (qemu-user-static)"
    if not (ROOT / "usr" / "sbin" / "kexec").is_file():
        return False, f"kexec-tools:riscv64 not unpacked in {ROOT} (loadertruth/install.sh riscv)"
    if which("dtc") is None:
        return False, "dtc not installed (device-tree-compiler)"
    return True, ""


def version() -> str:
    status = BASE / "kexec-tools.version"
    return f"kexec-tools {status.read_text().strip() if status.is_file() else '2.0.32'} (riscv64)"


def fixture_files(crash: bool, dtb: bytes) -> dict[str, bytes]:
    iomem = IOMEM + ([CRASH] if crash else [])
    return {"/proc/iomem": ("\n".join(iomem) + "\n").encode(),
            "/sys/firmware/fdt": dtb,
            "/sys/kernel/vmcoreinfo": b"0x00000000bf000000 1024\n"}


def _dtb(tmp: Path) -> bytes:
    src = tmp / "fixture.dts"
    src.write_text(DTS)
    out = tmp / "fixture.dtb"
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(out), str(src)],
                   check=True)
    data = out.read_bytes()
    src.unlink()
    out.unlink()
    return data


def sysroot(crash: bool) -> Path:
    """The ``-L`` prefix for a mode: symlinks to ROOT's directories and the fixtures
    (created once, under build/riscv)."""
    path = BASE / f"sysroot-{'crash' if crash else 'normal'}"
    if (path / ".loadertruth").is_file():
        return path
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for entry in sorted(ROOT.iterdir()):
        (tmp / entry.name).symlink_to(os.path.relpath(entry, tmp))
    for host_path, content in fixture_files(crash, _dtb(tmp)).items():
        p = tmp / host_path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    (tmp / ".loadertruth").write_text("fixture sysroot for loadertruth (riscv64)\n")
    if not (path / ".loadertruth").is_file():
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    else:  # another worker made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def command(loader: str, image: Path) -> list[str]:
    root = sysroot(loader == "kexec-tools-crash")
    return [qemu(), "-r", UNAME_RELEASE, "-L", str(root), str(root / "usr" / "sbin" / "kexec"),
            *MODES[loader], str(image), f"--append={APPEND}"]


def run(loader: str, image: Path, rel: str, sha: str | None = None) -> Verdict:
    """Run one kexec-tools mode (``kexec-tools``: -l, ``kexec-tools-crash``: -p) on one
    image; observed: the loader's lines and the entry address."""
    v, ok = new_verdict(loader, image, rel, "riscv64", sha, version(), available())
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
             if not NOISE.match(ln) and not ln.startswith("dtb_delete_property")]
    v.log_tail = tail(lines)
    if p.returncode < 0:
        v.message = f"harness: kexec died (status {p.returncode})"
        return v
    v.accept, v.message, v.observed = classify(loader, lines)
    for ln in lines:  # "Entry point for the Image: 0x82000000"
        if ln.startswith("Entry point for the Image: 0x"):
            v.observed["kernel_addr"] = int(ln.rsplit(" ", 1)[1], 16)
        elif ln.startswith(("Could not", "Cannot load", "kexec: load failed")):
            v.observed.setdefault("refusal", ln)
    v.observed["exit_status"] = p.returncode
    return v


def variants(data: bytes) -> dict[str, tuple[str, bytes]]:
    """name -> (class, the variant's bytes) for a riscv64 Image ``data``: one header field
    changed, as boot-image-header.rst lays it out."""
    def put(offset: int, value: bytes) -> bytes:
        return data[:offset] + value + data[offset + len(value):]

    q = lambda v: struct.pack("<Q", v)  # noqa: E731
    u = lambda v: struct.pack("<I", v)  # noqa: E731
    return {
        "original": ("original", data),
        "magic2-broken": ("magic", put(0x38, b"RSC\x04")),
        "magic2-zero": ("magic", put(0x38, bytes(4))),
        "old-magic-zero": ("magic", put(0x30, bytes(8))),
        "version-0.1": ("version", put(0x20, u(0x00000001))),
        "version-1.0": ("version", put(0x20, u(0x00010000))),
        "image-size-0": ("image_size", put(0x10, q(0))),
        "image-size-4k": ("image_size", put(0x10, q(0x1000))),
        "image-size-4g": ("image_size", put(0x10, q(0x100000000))),
        "flags-be": ("flags", put(0x18, q(1))),
        "flags-bit1": ("flags", put(0x18, q(2))),
        "text-offset-4m": ("text_offset", put(0x08, q(0x400000))),
        "text-offset-3m": ("text_offset", put(0x08, q(0x300000))),
        "no-mz": ("code0", put(0x00, b"\0\0")),
        "pe-offset-0": ("pe_offset", put(0x3C, u(0))),
        "header-cut": ("truncated", data[:0x3E]),
    }
