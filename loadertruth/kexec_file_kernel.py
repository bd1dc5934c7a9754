"""The kernel's own ``kexec_file_load(2)``: a real arm64 Linux 6.1 booted under
qemu-system-aarch64 (``-M virt -cpu max``, TCG) with an initramfs whose ``/init``
(``loadertruth/guest/kexec_file_init.c``) calls the system call on every test image.

Loaders:

- ``kexec-file-kernel``        ``kexec_file_load(fd, -1, cmdline, KEXEC_FILE_NO_INITRAMFS)``
- ``kexec-file-kernel-crash``  the same with ``KEXEC_FILE_ON_CRASH``, into the region the
                               guest reserved with ``crashkernel=256M``

Every image of a run goes through ONE guest boot (both modes, unloading with
``KEXEC_FILE_UNLOAD`` after each successful load; the loaded kernel is never run).
Images reach the guest cheaply: each distinct base (the ``as-is`` variant of a
manifest base, or the image itself) is shipped once in the initramfs as its data
extents (the sparse zeros are left out), and the job file ``/job`` lists per image its
base, its size (truncation / extension) and the (offset, bytes) patches that turn
the base into it (loadertruth/imagediff.py). The guest rebuilds each image in a memfd
and passes that fd.

Console lines (see the C file): ``KFL <id> <mode> <rc> <errno name> <errno> <us>``
decides; ``KFL-KMSG`` lines are what the kernel logged during that load (with
``dyndbg`` on arch/arm64/kernel/kexec_image.c and kernel/kexec_file.c, the
``pr_debug`` placement lines); ``KFL-UNLOAD`` confirms the unload. They are read back by
loadertruth/kexec_file_console.py.

The kernel: Debian 12's own arm64 kernels (``linux-image-6.1.0-*-arm64``, also the
cloud flavour) are built with ``# CONFIG_KEXEC_FILE is not set``: the system call
answers ENOSYS there (recorded as ``accept: null``; ``LOADERTRUTH_KFK_KERNEL=debian``
runs it). The default kernel is therefore built by ``install.sh kexec-file`` from
Debian's own source of the same version (``linux-source-6.1``) with a small config
that turns on KEXEC_FILE (no KEXEC_SIG, lockdown forced to none, 4K pages, LE), see
``KCONFIG`` in install.sh and README.md.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .common import CACHE, REPO, Verdict, sha256_file, versions, which
from .cpio import S_IFCHR, S_IFDIR, S_IFREG, cpio_newc
from .imagediff import diff_patches, encode_base
from .kexec_file_console import parse_console, verdict_fields

LOADER_NORMAL = "kexec-file-kernel"
LOADER_CRASH = "kexec-file-kernel-crash"
NAMES = (LOADER_NORMAL, LOADER_CRASH)
MODE_OF = {LOADER_NORMAL: "normal", LOADER_CRASH: "crash"}
LOADER_OF = {v: k for k, v in MODE_OF.items()}

WORK = CACHE / "kexec-file-kernel"
INIT_SRC = REPO / "loadertruth" / "guest" / "kexec_file_init.c"
RAM_MIB = 2048
CRASHKERNEL = "256M"
#: what the guest passes to kexec_file_load as the new kernel's command line (default)
GUEST_CMDLINE = "console=ttyAMA0 loadertruth"
BOOT_TIMEOUT = 120.0
PER_LOAD_TIMEOUT = 3.0


# ----------------------------------------------------------------------- job + initramfs


@dataclass
class JobImage:
    id: int
    base: int
    size: int
    patches: list[tuple[int, bytes]] = field(default_factory=list)


def encode_job(images: list[JobImage], bases: dict[int, str], modes: list[str],
               cmdline: str = GUEST_CMDLINE) -> str:
    lines = [f"cmdline {cmdline}", "modes " + " ".join(modes)]
    lines += [f"base {k} {p}" for k, p in sorted(bases.items())]
    for im in images:
        lines.append(f"img {im.id} {im.base} {im.size} {len(im.patches)}")
        lines += [f"p {off} {data.hex()}" for off, data in im.patches]
    lines.append("end")
    return "\n".join(lines) + "\n"


def initramfs(init: bytes, base_blobs: dict[int, bytes], job: str) -> bytes:
    entries = [
        ("dev", S_IFDIR | 0o755, b"", 0, 0),
        ("dev/console", S_IFCHR | 0o600, b"", 5, 1),
        ("dev/kmsg", S_IFCHR | 0o644, b"", 1, 11),
        ("proc", S_IFDIR | 0o755, b"", 0, 0),
        ("sys", S_IFDIR | 0o755, b"", 0, 0),
        ("b", S_IFDIR | 0o755, b"", 0, 0),
        ("init", S_IFREG | 0o755, init, 0, 0),
        *((f"b/{k}", S_IFREG | 0o644, blob, 0, 0) for k, blob in sorted(base_blobs.items())),
        ("job", S_IFREG | 0o644, job.encode(), 0, 0),
    ]
    return gzip.compress(cpio_newc(entries), compresslevel=6, mtime=0)


# ----------------------------------------------------------------------- machine


@dataclass
class Guest:
    """How one architecture's guest is run."""

    arch: str
    qemu: str
    qemu_package: str
    machine: list[str]
    console: str
    cc: str
    #: install.sh's kernel for that arch, and the versions.json key of its release
    kernel: Path
    release_key: str
    dyndbg: str


GUESTS = {
    "arm64": Guest(
        "arm64", "qemu-system-aarch64", "qemu-system-arm",
        ["-machine", "virt", "-cpu", "max,pauth-impdef=on", "-serial", "stdio"],
        "ttyAMA0", "aarch64-linux-gnu-gcc", CACHE / "kernel-arm64-kexecfile" / "Image",
        "kbuild-kernel",
        "file kexec_image.c +p; file kexec_file.c +p; file machine_kexec_file.c +p"),
    "ppc64": Guest(
        "ppc64", "qemu-system-ppc64", "qemu-system-ppc",
        # x-vof=on: QEMU's minimal Open Firmware instead of SLOF (boots in a second)
        ["-machine", "pseries,x-vof=on", "-cpu", "power9", "-serial", "stdio", "-vga", "none"],
        "hvc0", "powerpc64le-linux-gnu-gcc",
        CACHE / "kernel-ppc64le-kexecfile" / "vmlinux", "kbuild-kernel-ppc64le",
        "file kexec_file.c +p; file elf_64.c +p; file file_load_64.c +p; "
        "file file_load.c +p; file kexec_elf.c +p"),
}


def kernel_choice() -> str:
    return os.environ.get("LOADERTRUTH_KFK_KERNEL", "kbuild")


def kernel_path(arch: str = "arm64", choice: str | None = None) -> Path | None:
    choice = choice or kernel_choice()
    if choice == "debian":
        if arch != "arm64":
            return None
        found = sorted((CACHE / "kernel-arm64" / "boot").glob("vmlinuz-*"))
        return found[-1] if found else None
    g = GUESTS.get(arch)
    return g.kernel if g and g.kernel.is_file() else None


def version(arch: str = "arm64", choice: str | None = None) -> str:
    choice = choice or kernel_choice()
    rec = versions().get("kexec-file", {})
    g = GUESTS[arch]
    qemu = versions().get("host", {}).get(g.qemu_package) or rec.get(g.qemu_package, "unknown")
    machine = " ".join(g.machine[1:4:2])
    if choice == "debian":
        deb = rec.get("debian-kernel", "unknown").replace("=", " ")
        return f"{deb} (Debian 12 arm64, KEXEC_FILE not set) under {g.qemu} {qemu} {machine}"
    src = rec.get("kbuild-source", "unknown").replace("=", " ")
    return (f"Linux {rec.get(g.release_key, 'unknown')} built from Debian {src} "
            f"(KEXEC_FILE=y, no KEXEC_SIG) under {g.qemu} {qemu} {machine} TCG")


def init_bin(arch: str) -> Path:
    return WORK / f"init-{arch}"


def build_init(arch: str = "arm64", force: bool = False) -> Path:
    """Cross-compile the guest /init (static) unless it is newer than its source."""
    WORK.mkdir(parents=True, exist_ok=True)
    out = init_bin(arch)
    if not force and out.is_file() and out.stat().st_mtime >= INIT_SRC.stat().st_mtime:
        return out
    cc = which(GUESTS[arch].cc)
    if cc is None:
        raise RuntimeError(f"{GUESTS[arch].cc} missing (install.sh kexec-file)")
    subprocess.run([cc, "-static", "-O2", "-Wall", "-o", str(out), str(INIT_SRC)],
                   check=True, capture_output=True)
    return out


def available(arch: str = "arm64") -> tuple[bool, str]:
    g = GUESTS.get(arch)
    if g is None:
        return False, f"no {arch} guest"
    if which(g.qemu) is None:
        return False, f"{g.qemu} not installed ({g.qemu_package})"
    if kernel_path(arch) is None:
        return False, (f"no {kernel_choice()} {arch} guest kernel "
                       "(sh loadertruth/install.sh kexec-file)")
    if not init_bin(arch).is_file() and which(g.cc) is None:
        return False, f"{g.cc} missing (sh loadertruth/install.sh kexec-file)"
    return True, ""


def command(kernel: Path, initrd: Path, arch: str = "arm64") -> list[str]:
    g = GUESTS[arch]
    # printk.devkmsg=on: the guest's /dev/kmsg writes (see drain_kmsg) are not ratelimited
    append = (f"console={g.console} loglevel=1 crashkernel={CRASHKERNEL} rdinit=/init "
              f"panic=-1 printk.devkmsg=on dyndbg=\"{g.dyndbg}\"")
    return [
        which(g.qemu) or g.qemu, *g.machine,
        "-smp", "1", "-m", str(RAM_MIB), "-nographic", "-nic", "none", "-monitor", "none",
        "-no-reboot", "-kernel", str(kernel), "-initrd", str(initrd), "-append", append,
    ]


@dataclass
class Item:
    """One image of a batch: where it is, its join key, and its base (a path)."""

    path: Path
    rel: str
    arch: str
    sha: str
    base: Path | None = None


def plan(items: list[Item]) -> tuple[dict[int, bytes], dict[int, str], list[JobImage]]:
    """Base blobs (by number), their guest paths and the job's images (id = index)."""
    base_ids: dict[Path, int] = {}
    blobs: dict[int, bytes] = {}
    job: list[JobImage] = []
    for i, it in enumerate(items):
        base = it.base if it.base is not None and it.base.is_file() else it.path
        if base not in base_ids:
            base_ids[base] = len(base_ids)
            blobs[base_ids[base]] = encode_base(base)
        k = base_ids[base]
        patches = [] if base == it.path else diff_patches(base, it.path)
        if sum(len(d) for _, d in patches) > (1 << 20):  # too different: its own base
            base_ids[it.path] = len(base_ids)
            k = base_ids[it.path]
            blobs[k] = encode_base(it.path)
            patches = []
        job.append(JobImage(i, k, it.path.stat().st_size, patches))
    return blobs, {k: f"/b/{k}" for k in blobs}, job


def run_batch(items: list[Item], loaders: list[str], timeout: float | None = None
              ) -> list[Verdict]:
    """One guest boot per architecture for all ``items`` and the requested modes; one
    Verdict per (item, loader), in the order of ``items``."""
    loaders = [x for x in NAMES if x in loaders]
    got: dict[tuple[str, str], Verdict] = {}
    for arch in sorted({it.arch for it in items}):
        for v in _run_arch(arch, [it for it in items if it.arch == arch], loaders, timeout):
            got[(v.image, v.loader)] = v
    return [got[(it.rel, ld)] for it in items for ld in loaders]


def _run_arch(arch: str, items: list[Item], loaders: list[str], timeout: float | None
              ) -> list[Verdict]:
    choice = kernel_choice()
    ok, why = available(arch)
    ver = version(arch, choice) if arch in GUESTS else f"no {arch} guest"
    out: list[Verdict] = []

    def blank(it: Item, loader: str) -> Verdict:
        return Verdict(image=it.rel, sha256=it.sha, loader=loader, loader_version=ver,
                       arch=it.arch, accept=None, message="")

    if not ok or not items or not loaders:
        for it in items:
            for ld in loaders:
                v = blank(it, ld)
                v.message = f"harness: {why}"
                out.append(v)
        return out

    t0 = time.monotonic()
    init = build_init(arch).read_bytes()
    blobs, base_paths, job = plan(items)
    modes = [MODE_OF[x] for x in loaders]
    cmdline = f"console={GUESTS[arch].console} loadertruth"
    rd = initramfs(init, blobs, encode_job(job, base_paths, modes, cmdline))
    WORK.mkdir(parents=True, exist_ok=True)
    initrd = WORK / f"initramfs-{arch}-{os.getpid()}.cpio.gz"
    initrd.write_bytes(rd)
    prep = time.monotonic() - t0
    limit = timeout or BOOT_TIMEOUT + PER_LOAD_TIMEOUT * len(items) * len(modes)
    t1 = time.monotonic()
    kernel = kernel_path(arch, choice)
    cmd = command(kernel, initrd, arch)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=dict(os.environ, LC_ALL="C"))
    try:
        raw, _ = proc.communicate(timeout=limit)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        raw, _ = proc.communicate()
        timed_out = True
    wall = time.monotonic() - t1
    text = raw.decode("utf-8", "replace")
    (WORK / f"console-{arch}.log").write_text(text)
    initrd.unlink(missing_ok=True)
    parsed = parse_console(text)
    run_info = {"boot_and_loads_seconds": round(wall, 1), "prepare_seconds": round(prep, 1),
                "images": len(items), "loads": len(items) * len(modes),
                "initramfs_bytes": len(rd), "timed_out": timed_out, "info": parsed["info"],
                "kernel": str(kernel), "command": cmd}
    (WORK / f"last-run-{arch}.json").write_text(json.dumps(run_info, indent=1) + "\n")
    for i, it in enumerate(items):
        for ld in loaders:
            v = blank(it, ld)
            load = parsed["loads"].get((i, MODE_OF[ld]))
            accept, message, observed = verdict_fields(load, parsed["errors"].get(i))
            if load is None and timed_out:
                message = "harness: guest timed out"
            v.accept, v.message, v.observed = accept, message, observed
            v.log_tail = [message, *observed.get("kmsg", [])][-6:]
            v.seconds = round(load["us"] / 1e6, 6) if load else 0.0
            out.append(v)
    return out


def run(loader: str, path: Path, rel: str, arch: str = "arm64", sha: str | None = None,
        base: Path | None = None) -> Verdict:
    """One image, one boot (slow: use run_batch for many)."""
    item = Item(path, rel, arch, sha or sha256_file(path), base)
    return run_batch([item], [loader])[0]


def clean() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
