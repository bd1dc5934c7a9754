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
    """Instructions executed by ``cmd`` (callgrind's total), or None without valgrind. A
    ``sh -c`` pipeline (a reference such as ``dpkg-deb ... | tar -xO``) counts every
    process of it, the shell included."""
    if VALGRIND is None:
        return None
    children = Path(cmd[0]).name in ("sh", "bash")
    proc = subprocess.run([VALGRIND, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           f"--trace-children={'yes' if children else 'no'}", *cmd],
                          cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, errors="replace", env=dict(CHILD_ENV, PYTHONHASHSEED="0"))
    counts = [int(n) for n in re.findall(r"Collected : (\d+)", proc.stderr)]
    return sum(counts) if counts else None


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
        image, references, *opts = image if isinstance(image, tuple) else (image, {})
        opts = opts[0] if opts else {}
        check = ["check", *opts.get("args", ()), str(image)]  # args: --config FILE, ...
        commands = {
            EDITABLE: [str(VENV_BIN / "kimage"), *check],
            "python3 -I -c pass": [python, "-I", "-c", "pass"],
        }
        if FILE:
            commands["file -b"] = [FILE, "-b", str(image)]
        if regular is not None:
            commands[REGULAR] = [str(regular / "kimage"), *check]
            commands["python3 -I -c pass (plain venv)"] = [str(regular / "python"), "-I",
                                                            "-c", "pass"]
        commands.update(references)  # a floor on the same input: the decoder, dpkg-deb
        for short, bin_dir in (revisions or {}).items():
            commands[f"kimage check @{short} (pip install)"] = [str(bin_dir / "kimage"),
                                                                *check]
        n = min(rounds, opts.get("rounds", rounds))
        runs = interleave(commands, n, cwd=workdir)
        count = opts.get("instructions", True)
        table = {}
        for name, rs in runs.items():
            table[name] = {"wall_ms": summary([r.wall for r in rs], 1000),
                           "cpu_ms": summary([r.cpu for r in rs], 1000),
                           "maxrss_kib": max(r.maxrss for r in rs),
                           "exit": sorted({r.status for r in rs}),
                           "instructions": instructions(commands[name], workdir)
                           if count else None}
        entry = {"path": os.fspath(image), "size": image.stat().st_size, "commands": table,
                 "ratios": _ratios(table, list(references))}
        if n != rounds:
            entry["rounds"] = n
        refused = _refused(table, list(references))
        if refused:
            entry["refused"] = refused
        if opts.get("note"):
            entry["note"] = opts["note"]
        if opts.get("args"):
            entry["args"] = [os.fspath(a) for a in opts["args"]]
        out["images"][label] = entry
    return out


#: Exit statuses a ``kimage check`` may end with and still be timed: 0, or 1 when it
#: reports an error finding (its work was done); 2 and above are usage or input errors.
KIMAGE_OK = (0, 1)


def failed(table: dict, name: str) -> bool:
    """True when ``name`` did not run as measured: a reference (the interpreter,
    ``file -b``, a decoder, dpkg-deb) that exited other than 0 in any round (127: it
    could not be started), or a kimage that exited 2 or more."""
    ok = KIMAGE_OK if name.startswith("kimage") else (0,)
    return any(status not in ok for status in table[name]["exit"])


def _refused(table: dict, references: list[str]) -> dict:
    """The commands no ratio is reported against, and why (their exit statuses)."""
    return {name: f"exit status {table[name]['exit']}: no ratio against it"
            for name in table if failed(table, name)}


def _ratios(table: dict, references: list[str] = ()) -> dict:
    """The ratios of the image's table. The goals are read on the regular install
    (``pip install .``, as users install kimage) against the interpreter of its own
    plain venv, and against each reference command (``file -b``, a decoder, dpkg-deb)."""
    def med(name, key="wall_ms"):
        return None if failed(table, name) else table[name][key]["median"]

    ratios = {}
    if table["python3 -I -c pass"].get("instructions"):
        def count(name):
            return 0 if failed(table, name) else table[name].get("instructions") or 0

        base = count("python3 -I -c pass")
        ratios["kimage / python3 -I -c pass (instructions)"] = ratio(count(EDITABLE), base)
        if REGULAR in table and count("python3 -I -c pass (plain venv)"):
            ratios["kimage (pip install .) / python3 -I -c pass, plain venv (instructions)"] = (
                ratio(count(REGULAR), count("python3 -I -c pass (plain venv)")))
        best = REGULAR if REGULAR in table else EDITABLE
        for name in ("file -b", *references):
            if name in table and count(name):
                ratios[f"{best} / {name} (instructions)"] = ratio(count(best), count(name))
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
            ratios[f"editable finder, ms at start-up ({unit})"] = (
                None if base is None or plain is None else round(base - plain, 1))
        best = REGULAR if REGULAR in table else EDITABLE
        for name in references:
            ratios[f"{best} / {name} ({unit})"] = ratio(med(best, key), med(name, key))
        for name in table:
            if name.startswith("kimage check @"):
                plain_name = ("python3 -I -c pass (plain venv)" if REGULAR in table
                              else "python3 -I -c pass")
                ratios[f"{name} / {plain_name} ({unit})"] = ratio(
                    med(name, key), med(plain_name, key))
    return ratios


def wrapped_images(work: Path) -> dict:
    """The wrapped kernels of corpus/kernels (a 6.1 arm64 kernel built by the corpus
    scripts, 2.4 MB): its EFI zboot image, the Image compressed with gzip (as in the
    corpus), xz and zstd, each beside its decoder writing the Image to /dev/null (the
    decode floor), and its Debian package beside ``dpkg-deb --fsys-tarfile | tar -xO``
    of the kernel member. Label -> (path, {reference name: argv})."""
    kernels = ROOT / "corpus" / "kernels"
    out: dict = {}
    zboot = kernels / "arm64-4k-le-zboot-gzip" / "vmlinuz.efi"
    if zboot.is_file():
        out["arm64 EFI zboot, gzip (corpus, 6.1)"] = (zboot, {})
    gz = kernels / "arm64-4k-le-efi" / "Image.gz"
    tools = {name: shutil.which(name) for name in ("gzip", "xz", "zstd")}
    if gz.is_file() and tools["gzip"]:
        out["arm64 Image.gz (corpus, 6.1)"] = (gz, {"gzip -dc": [tools["gzip"], "-dc",
                                                                str(gz)]})
        raw = subprocess.run([tools["gzip"], "-dc", str(gz)], capture_output=True,
                             check=True).stdout
        for name, ext in (("xz", "xz"), ("zstd", "zst")):
            if tools[name] is None:
                continue
            packed = work / f"Image.{ext}"
            packed.write_bytes(subprocess.run([tools[name], "-c"], input=raw,
                                              capture_output=True, check=True).stdout)
            out[f"arm64 Image.{ext} (corpus, 6.1)"] = (
                packed, {f"{name} -dc": [tools[name], "-dc", str(packed)]})
    debs = sorted((kernels / "arm64-4k-le-efi").glob("linux-image-*.deb"))
    if debs and shutil.which("dpkg-deb") and shutil.which("tar"):
        from bench.realsize import deb_reference, kernel_member

        member = kernel_member(debs[0])
        if member:
            out["Debian linux-image .deb (corpus, 6.1, arm64)"] = (debs[0], {
                "dpkg-deb --fsys-tarfile | tar -xO": deb_reference(debs[0], member)})
    return out
