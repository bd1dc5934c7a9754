"""Shared pieces: where the installed loaders live, the verdict record, image sniffing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
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


def versions() -> dict:
    """The package versions install.sh recorded, or {} before it ran."""
    try:
        return json.loads((CACHE / "versions.json").read_text())
    except (OSError, ValueError):
        return {}


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
    """qemu-system-aarch64, which runs U-Boot, EDK2 and QEMU's own -kernel loader."""
    return which("qemu-system-aarch64")


def tail(lines: list[str], n: int = TAIL_LINES) -> list[str]:
    return [ln for ln in lines if ln.strip()][-n:]


def scrub(line: str, image: Path) -> str:
    """Make a loader's line independent of where the image lives."""
    return line.replace(str(image), "IMAGE").rstrip()
