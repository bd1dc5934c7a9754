"""The machine kexec-tools believes it runs on: /proc and /sys fixtures and a DTB.

kexec-tools reads the running system: /proc/iomem (arm64 RAM and the "Crash kernel"
range), /proc/device-tree (ppc64 RAM, RMA, crashkernel base/size), /proc/kallsyms and
/proc/kcore (arm64 page_offset), /sys/kernel/vmcoreinfo (crash notes). Under qemu-user
those would be the x86 host's files, so every run gets a *sysroot*: a directory that
holds symlinks to the unpacked arm64/ppc64el root (lib, usr, sbin, ...) plus fixture
files under proc/ and sys/.

qemu-user resolves every absolute path a guest opens inside its ``-L`` prefix first
(util/path.c: ``access(prefix + path)``, falling back to the host path), so the guest
kexec reads ``SYSROOT/proc/iomem`` instead of the host's ``/proc/iomem``, and
``SYSROOT/proc/device-tree/`` although an x86 host has no /proc/device-tree at all.
That needs no privileges. The alternative the issue proposed, a private mount namespace
with fixtures bind-mounted over /proc files (``isolation="mount"``), works here as root
for files the host has (iomem, kallsyms, vmcoreinfo) but cannot create
/proc/device-tree, so the sysroot serves that in both modes.

The machine (both arches): 2 GiB of RAM; crash mode adds a 256 MiB crashkernel region.

==========  ===========================  =====================================
arch        RAM                          crashkernel (crash mode only)
==========  ===========================  =====================================
arm64       0x40000000-0xbfffffff        0x60000000-0x6fffffff ("Crash kernel")
ppc64el     0x0-0x7fffffff (RMA 768 MiB) base 0x10000000 size 0x10000000
==========  ===========================  =====================================
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import threading
from pathlib import Path

from .common import CACHE, suite

ARM64_RAM = (0x40000000, 0xBFFFFFFF)
ARM64_CRASH = (0x60000000, 0x6FFFFFFF)
PPC64_RAM_SIZE = 0x80000000
PPC64_KERNEL_END = 0x3000000
PPC64_CRASH = (0x10000000, 0x10000000)  # base, size
_LOCK = threading.Lock()  # run.py's worker threads create fixtures on first use

#: The arm64 device tree handed to ``kexec --dtb``: the memory node and an empty
#: /chosen (no kaslr-seed: kexec-tools 2.0.25 refuses a non-zero one, which QEMU's
#: own dumped DTB has).
ARM64_DTS = """/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	compatible = "linux,dummy-virt";
	model = "loadertruth";
	chosen { };
	memory@40000000 {
		device_type = "memory";
		reg = <0x0 0x40000000 0x0 0x80000000>;
	};
};
"""


def root_dir(arch: str) -> Path:
    """The unpacked Debian root of ``arm64`` or ``ppc64el`` (install.sh); for arm64 that
    of ``suite()`` when one is chosen."""
    if suite() and arch == "arm64":
        return CACHE / f"root-arm64-{suite()}"
    return CACHE / f"root-{arch}"


def _arm64_iomem(crash: bool) -> str:
    lines = [
        f"{ARM64_RAM[0]:08x}-{ARM64_RAM[1]:08x} : System RAM",
        "  40210000-4144ffff : Kernel code",
        "  41450000-4178ffff : Kernel data",
    ]
    if crash:
        lines.append(f"  {ARM64_CRASH[0]:08x}-{ARM64_CRASH[1]:08x} : Crash kernel")
    return "\n".join(lines) + "\n"


def _ppc64_device_tree(dt: Path, crash: bool) -> None:
    def prop(rel: str, value: bytes) -> None:
        p = dt / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(value)

    prop("name", b"\0")
    prop("compatible", b"qemu,pseries\0")
    prop("model", b"loadertruth\0")
    prop("#address-cells", struct.pack(">I", 2))
    prop("#size-cells", struct.pack(">I", 2))
    prop("memory@0/name", b"memory\0")
    prop("memory@0/device_type", b"memory\0")
    prop("memory@0/reg", struct.pack(">QQ", 0, PPC64_RAM_SIZE))
    prop("chosen/name", b"chosen\0")
    prop("chosen/bootargs", b"console=hvc0\0")
    prop("chosen/linux,kernel-end", struct.pack(">Q", PPC64_KERNEL_END))
    if crash:
        prop("chosen/linux,crashkernel-base", struct.pack(">Q", PPC64_CRASH[0]))
        prop("chosen/linux,crashkernel-size", struct.pack(">Q", PPC64_CRASH[1]))
    prop("cpus/name", b"cpus\0")
    prop("cpus/#address-cells", struct.pack(">I", 1))
    prop("cpus/#size-cells", struct.pack(">I", 0))


def fixture_files(arch: str, crash: bool) -> dict[str, bytes]:
    """Host path -> content of the files a run fakes (the ones kexec-tools reads)."""
    files = {
        "/proc/kallsyms": b"",  # no symbols: page_offset is not derived from the host
        "/proc/kcore": b"",  # present but empty: same message on every host
        "/sys/kernel/vmcoreinfo": b"0x0000000041fff000 1024\n",
    }
    if arch == "arm64":
        files["/proc/iomem"] = _arm64_iomem(crash).encode()
    else:
        # ppc64 reads RAM from the device tree; its crash path also reads /proc/iomem
        # for nothing we care about, so give it the RAM as well.
        files["/proc/iomem"] = f"00000000-{PPC64_RAM_SIZE - 1:08x} : System RAM\n".encode()
    return files


def bind_mounts(arch: str, crash: bool) -> dict[str, Path]:
    """For ``isolation="mount"``: host path -> fixture file to bind over it (only the
    paths the host has; a bind mount needs an existing mount point)."""
    with _LOCK:
        return _bind_mounts(arch, crash)


def _bind_mounts(arch: str, crash: bool) -> dict[str, Path]:
    out = {}
    src = CACHE / f"mounts-{arch}-{'crash' if crash else 'normal'}"
    for host_path, content in fixture_files(arch, crash).items():
        if not os.path.exists(host_path):
            continue
        f = src / host_path.lstrip("/").replace("/", "_")
        f.parent.mkdir(parents=True, exist_ok=True)
        if not f.is_file() or f.read_bytes() != content:
            f.write_bytes(content)
        out[host_path] = f
    return out


def sysroot(arch: str, crash: bool, isolation: str = "prefix") -> Path:
    """Create (once) and return the qemu-user ``-L`` prefix for ``arch`` and mode.

    With ``isolation="mount"`` the prefix holds only the fixtures the host lacks (the
    others are bind-mounted by the caller, see :func:`bind_mounts`)."""
    with _LOCK:
        return _sysroot(arch, crash, isolation)


def _sysroot(arch: str, crash: bool, isolation: str) -> Path:
    at = f"-{suite()}" if suite() and arch == "arm64" else ""
    name = f"sysroot-{arch}{at}-{'crash' if crash else 'normal'}-{isolation}"
    path = CACHE / name
    stamp = path / ".loadertruth"
    if stamp.is_file():
        return path
    root = root_dir(arch)
    if not (root / "sbin" / "kexec").is_file():
        raise FileNotFoundError(f"{root}/sbin/kexec missing: run loadertruth/install.sh")
    tmp = CACHE / (name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        (tmp / entry.name).symlink_to(os.path.relpath(entry, tmp))
    for host_path, content in fixture_files(arch, crash).items():
        if isolation == "mount" and os.path.exists(host_path):
            continue
        p = tmp / host_path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    if arch == "ppc64el":
        _ppc64_device_tree(tmp / "proc" / "device-tree", crash)
    (tmp / ".loadertruth").write_text("fixture sysroot for loadertruth\n")
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    return path


def arm64_dtb() -> Path:
    """The DTB for ``kexec --dtb`` (compiled with dtc once)."""
    with _LOCK:
        return _arm64_dtb()


def _arm64_dtb() -> Path:
    out = CACHE / "fixture-arm64.dtb"
    if out.is_file():
        return out
    src = CACHE / "fixture-arm64.dts"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(ARM64_DTS)
    tmp = out.with_suffix(".tmp")
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(tmp), str(src)], check=True)
    tmp.rename(out)
    return out
