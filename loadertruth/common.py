"""Shared pieces: where the installed loaders live, the verdict record, image sniffing."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Installed loaders, unpacked .debs and generated fixtures (git-ignored).
CACHE = Path(os.environ.get("LOADERTRUTH_CACHE", REPO / "build" / "loadertruth"))

#: Lines kept in ``log_tail``.
TAIL_LINES = 12


@dataclasses.dataclass
class Verdict:
    """One loader's verdict on one image: a row of ``results.json``."""

    image: str
    sha256: str
    loader: str
    loader_version: str
    arch: str
    #: True: the loader took the image; False: it refused; None: the harness could not tell.
    accept: bool | None
    #: The line that decided (paths replaced by IMAGE), or the harness's reason for None.
    message: str
    #: What the loader reported on the way (its computed text_offset, image_size, ...).
    observed: dict = dataclasses.field(default_factory=dict)
    log_tail: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def new_verdict(loader: str, image: Path, rel: str, arch: str, sha: str | None, version: str,
                ready: tuple[bool, str]) -> tuple[Verdict, bool]:
    """A run's undecided verdict, and whether the harness can run (``ready``: its
    ``available()``); when it cannot, the verdict already says why."""
    v = Verdict(image=rel, sha256=sha or sha256_file(image), loader=loader,
                loader_version=version, arch=arch, accept=None, message="")
    ok, why = ready
    if not ok:
        v.message = f"harness: {why}"
    return v, ok


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def suite() -> str:
    """The Debian suite whose loaders run: ``$LOADERTRUTH_SUITE`` (e.g. trixie, unstable;
    unpacked by ``install.sh suite SUITE``), or "" for the machine's own (Debian 12).
    It swaps kexec-tools:arm64, qemu-system-aarch64 and u-boot-qemu; ppc64el stays."""
    return os.environ.get("LOADERTRUTH_SUITE", "")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def versions() -> dict:
    """The package versions install.sh recorded, or {} before it ran; with a suite, its
    arm64 and host packages over the machine's."""
    out = _read_json(CACHE / "versions.json")
    if suite():
        extra = _read_json(CACHE / f"versions-{suite()}.json")
        for key in ("arm64", "host"):
            out[key] = {**out.get(key, {}), **extra.get(key, {})} if key == "host" else (
                extra.get(key, {}))
    return out


def suite_qemu_root() -> Path:
    """The suite's unpacked qemu-system-arm and u-boot-qemu (amd64), install.sh suite."""
    return CACHE / f"root-amd64-{suite()}-qemu"


EM_PPC = 20
EM_PPC64 = 21
EM_AARCH64 = 183


def sniff_arch(path: Path) -> str:
    """``ppc64`` for an ELF of EM_PPC64/EM_PPC, else ``arm64`` (every other input,
    including garbage, is offered to the arm64 loaders, whose probes then decide)."""
    with open(path, "rb") as f:
        head = f.read(20)
    if len(head) >= 20 and head[:4] == b"\x7fELF":
        order = "little" if head[5] == 1 else "big"
        machine = int.from_bytes(head[18:20], order)
        if machine in (EM_PPC, EM_PPC64):
            return "ppc64"
    return "arm64"


def which(name: str) -> str | None:
    return shutil.which(name)


def qemu() -> str | None:
    """qemu-system-aarch64, which runs U-Boot, EDK2 and QEMU's own -kernel loader: the
    machine's, or with a suite the suite's, through a wrapper that starts it with that
    suite's own dynamic loader and libraries (nothing is installed into the system)."""
    if not suite():
        return which("qemu-system-aarch64")
    root = suite_qemu_root()
    # merged /usr (trixie on) keeps everything in usr/lib; bookworm's packages use /lib too
    libs = [root / "usr/lib/x86_64-linux-gnu", root / "lib/x86_64-linux-gnu"]
    ld = next((d / "ld-linux-x86-64.so.2" for d in libs
               if (d / "ld-linux-x86-64.so.2").is_file()), None)
    binary = root / "usr/bin/qemu-system-aarch64"
    if not (binary.is_file() and ld):
        return None
    wrapper = CACHE / f"bin-{suite()}" / "qemu-system-aarch64"
    path = ":".join(str(d) for d in libs)
    # Modules: the suite's own first (QEMU_MODULE_DIR); one it lacks is looked for in the
    # host's /usr/lib/x86_64-linux-gnu/qemu, and once the system has a qemu of its own
    # (with qemu-system-gui) that module is "from another build" and the run ends in an
    # assertion. The default audio backend is what pulls audio-pa (and ui-opengl) in:
    # ``-audio none`` (QEMU 7.1 on) asks for none.
    text = (f'#!/bin/sh\nQEMU_MODULE_DIR="{libs[0]}/qemu" exec "{ld}" --library-path '
            f'"{path}" "{binary}" -L "{root}/usr/share/qemu" -audio none "$@"\n')
    if not wrapper.is_file() or wrapper.read_text() != text:
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        tmp = wrapper.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o755)
        tmp.replace(wrapper)
    return str(wrapper)


def tail(lines: list[str], n: int = TAIL_LINES) -> list[str]:
    return [ln for ln in lines if ln.strip()][-n:]


def scrub(line: str, image: Path) -> str:
    """Make a loader's line independent of where the image lives."""
    return line.replace(str(image), "IMAGE").rstrip()


#: A file a guest program created (``open``/``openat`` with O_CREAT) in /tmp, as
#: qemu-user's ``-strace`` log shows the call: ``openat(AT_FDCWD,"/tmp/KernelAb12Cd",...``.
_GUEST_CREATES = re.compile(r'\bopen(?:at)?\((?:[^,"]*,)?"(/tmp/[^"/]+)",[^)]*O_CREAT')


def run_guest(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(cmd, **kwargs)`` for a qemu-user command line (``cmd`` holds the
    qemu-user binary, maybe behind a wrapper such as ``unshare``), removing afterwards the
    files the guest created in /tmp and left there.

    kexec-tools writes what it unpacks to files of its own under /tmp and does not remove
    them: a UKI's .initrd and .linux (/tmp/InitrdXXXXXX, /tmp/KernelXXXXXX, kexec/
    kexec-uki.c, 2.0.29 on), a decompressed kernel. Each run would leave up to two
    kernels behind. The names come from mkstemp, so they are found in qemu-user's system
    call log (``-strace``, written to a file of its own with ``-D``): only what this run
    created is removed, whatever runs beside it."""
    at = next((i for i, part in enumerate(cmd)
               if os.path.basename(part).startswith("qemu-")), None)
    if at is None:
        return subprocess.run(cmd, **kwargs)
    fd, log = tempfile.mkstemp(prefix="loadertruth-qemu-", suffix=".log")
    os.close(fd)
    try:
        return subprocess.run([*cmd[:at + 1], "-strace", "-D", log, *cmd[at + 1:]],
                              **kwargs)
    finally:
        with contextlib.suppress(OSError):
            _remove_created(Path(log).read_text(errors="replace"))
        with contextlib.suppress(OSError):
            os.unlink(log)


def _remove_created(log: str) -> None:
    for path in sorted(set(_GUEST_CREATES.findall(log))):
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid():
                os.unlink(path)
