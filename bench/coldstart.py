"""Part 1, cold start: ``kimage check`` on one image against ``python3 -I -c pass`` and
``file -b`` on the same file, interleaved (A B C A B C ...), median of the rounds.

kimage runs as installed three ways, when asked: the editable install of the working
tree (``pip install -e``, what ``make test`` sets up), a regular ``pip install .`` of
the working tree into a venv under build/, and a regular install of each of
``--revisions`` (``git archive``), to compare commits in one interleaved run. The
editable install adds a path finder that every interpreter of its venv imports at
start-up, ``python3 -I -c pass`` included; the regular venv has none, so each kimage is
compared with the bare interpreter of its own kind of venv.

Every module is byte-compiled first and the commands run without
PYTHONDONTWRITEBYTECODE, as an installed kimage does.

Times move with the machine's load; instruction counts do not. When valgrind is there,
each command also runs once under ``valgrind --tool=callgrind`` and its instruction
count (user space, the dynamic loader included) is recorded beside the times, with the
same ratios: the numbers to compare across commits and machines.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
from pathlib import Path

from bench.common import (
    CHILD_ENV,
    FILE,
    ROOT,
    VENV_BIN,
    compile_bytecode,
    interleave,
    ratio,
    summary,
)

ROUNDS = 21
EDITABLE = "kimage check"
REGULAR = "kimage check (pip install .)"
VALGRIND = shutil.which("valgrind")


def instructions(cmd: list[str], cwd: Path) -> int | None:
    """Instructions executed by ``cmd`` (callgrind's total), or None without valgrind."""
    if VALGRIND is None:
        return None
    proc = subprocess.run([VALGRIND, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           *cmd], cwd=cwd, capture_output=True, text=True,
                          env=dict(CHILD_ENV, PYTHONHASHSEED="0"))
    m = re.search(r"Collected : (\d+)", proc.stderr)
    return int(m.group(1)) if m else None


def install(where: Path, source: Path) -> Path | None:
    """A venv at ``where`` with kimage from ``pip install --no-deps source``; its
    dependencies are the running venv's (a path entry, no import hook). Returns its bin
    directory, or None when pip fails."""
    if not (where / "bin" / "python").exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(where)
    py = where / "bin" / "python"
    proc = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps",
                           "--force-reinstall", "--disable-pip-version-check", str(source)],
                          capture_output=True, text=True, env=CHILD_ENV)
    if proc.returncode != 0:
        sys.stderr.write(f"bench: pip install {source} failed, skipped:\n"
                         f"{proc.stderr[-2000:]}\n")
        return None
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], capture_output=True, text=True).stdout.strip()
    Path(site, "kimage_bench_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    compile_bytecode(Path(site))
    return where / "bin"


def install_revision(rev: str, build: Path) -> tuple[str, Path | None]:
    """A regular install of git revision ``rev``: (short hash, bin directory or None)."""
    short = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.strip()
    src = build / f"src-{short}"
    if not src.is_dir():
        archive = subprocess.run(["git", "archive", short], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(src, filter="data")
    return short, install(build / f"venv-{short}", src)


def measure(images: dict[str, Path], workdir: Path, rounds: int = ROUNDS,
            regular: Path | None = None, revisions: dict[str, Path] | None = None) -> dict:
    """``images``: label -> path; ``regular``: bin of the ``pip install .`` venv;
    ``revisions``: short hash -> bin. Commands run in ``workdir`` (no pyproject.toml)."""
    compile_bytecode(ROOT / "validator")
    python = str(VENV_BIN / "python")
    out: dict = {"rounds": rounds, "cwd_has_pyproject": False, "images": {}}
    for label, image in images.items():
        commands = {
            EDITABLE: [str(VENV_BIN / "kimage"), "check", str(image)],
            "python3 -I -c pass": [python, "-I", "-c", "pass"],
        }
        if FILE:
            commands["file -b"] = [FILE, "-b", str(image)]
        if regular is not None:
            commands[REGULAR] = [str(regular / "kimage"), "check", str(image)]
            commands["python3 -I -c pass (plain venv)"] = [str(regular / "python"), "-I",
                                                            "-c", "pass"]
        for short, bin_dir in (revisions or {}).items():
            commands[f"kimage check @{short} (pip install)"] = [
                str(bin_dir / "kimage"), "check", str(image)]
        runs = interleave(commands, rounds, cwd=workdir)
        table = {}
        for name, rs in runs.items():
            table[name] = {"wall_ms": summary([r.wall for r in rs], 1000),
                           "cpu_ms": summary([r.cpu for r in rs], 1000),
                           "maxrss_kib": max(r.maxrss for r in rs),
                           "exit": sorted({r.status for r in rs}),
                           "instructions": instructions(commands[name], workdir)}
        out["images"][label] = {"path": os.fspath(image), "size": image.stat().st_size,
                                "commands": table, "ratios": _ratios(table)}
    return out


def _ratios(table: dict) -> dict:
    def med(name, key="wall_ms"):
        return table[name][key]["median"]

    ratios = {}
    if table["python3 -I -c pass"].get("instructions"):
        def count(name):
            return table[name].get("instructions") or 0

        base = count("python3 -I -c pass")
        ratios["kimage / python3 -I -c pass (instructions)"] = ratio(count(EDITABLE), base)
        if REGULAR in table and count("python3 -I -c pass (plain venv)"):
            ratios["kimage (pip install .) / python3 -I -c pass, plain venv (instructions)"] = (
                ratio(count(REGULAR), count("python3 -I -c pass (plain venv)")))
    for key, unit in (("wall_ms", "wall"), ("cpu_ms", "cpu")):
        base = med("python3 -I -c pass", key)
        ratios[f"kimage / python3 -I -c pass ({unit})"] = ratio(med(EDITABLE, key), base)
        if "file -b" in table:
            ratios[f"kimage / file -b ({unit})"] = ratio(med(EDITABLE, key),
                                                         med("file -b", key))
        if REGULAR in table:
            plain = med("python3 -I -c pass (plain venv)", key)
            ratios[f"kimage (pip install .) / python3 -I -c pass, plain venv ({unit})"] = (
                ratio(med(REGULAR, key), plain))
            ratios[f"editable finder, ms at start-up ({unit})"] = round(base - plain, 1)
        for name in table:
            if name.startswith("kimage check @"):
                plain_name = ("python3 -I -c pass (plain venv)" if REGULAR in table
                              else "python3 -I -c pass")
                ratios[f"{name} / {plain_name} ({unit})"] = ratio(
                    med(name, key), med(plain_name, key))
    return ratios
