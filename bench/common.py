"""What every part of the benchmark shares: the machine, child processes, statistics."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
FILE = shutil.which("file")


def machine() -> dict:
    """The machine's description: CPU, cores, load, Python, kimage and file(1) versions."""
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from validator import __version__

    file_version = None
    if FILE:
        out = subprocess.run([FILE, "--version"], capture_output=True, text=True).stdout
        file_version = out.splitlines()[0] if out else None
    return {
        "cpu": cpu or platform.processor() or None,
        "cores": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "kimage": __version__,
        "kimage_commit": _git("rev-parse", "--short", "HEAD"),
        "kimage_worktree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "file": file_version,
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    maxrss: int  # peak resident set of the child, KiB
    status: int


#: The environment of every measured command: this one, less what would make Python
#: compile every module at each start (a session may set PYTHONDONTWRITEBYTECODE; an
#: installed kimage has its bytecode).
CHILD_ENV = {k: v for k, v in os.environ.items()
             if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}

_LAUNCHER = None


def _launcher():
    """The small process that starts every benchmarked command (see ``_launcher.py``)."""
    global _LAUNCHER
    if _LAUNCHER is None or _LAUNCHER.poll() is not None:
        _LAUNCHER = subprocess.Popen(
            [sys.executable, "-I", "-S", str(Path(__file__).with_name("_launcher.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    return _LAUNCHER


def spawn(argv: list[str], cwd: str | os.PathLike | None = None) -> Run:
    """Run ``argv`` with stdout and stderr to /dev/null: wall time, CPU time (user +
    system) and peak RSS of that command alone."""
    launcher = _launcher()
    launcher.stdin.write(json.dumps({"argv": [os.fspath(a) for a in argv],
                                     "cwd": os.fspath(cwd) if cwd else None,
                                     "env": CHILD_ENV}) + "\n")
    launcher.stdin.flush()
    answer = json.loads(launcher.stdout.readline())
    return Run(answer["wall"], answer["cpu"], answer["maxrss"], answer["status"])


def compile_bytecode(*trees: Path) -> None:
    """Write the bytecode of ``trees`` (as an installed package has it), so that no
    measured start compiles a module."""
    for tree in trees:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree)],
                       env=CHILD_ENV, check=False, stdout=subprocess.DEVNULL)


def interleave(commands: dict[str, list[str]], rounds: int, cwd=None,
               warmup: int = 1) -> dict[str, list[Run]]:
    """Run every command once per round, in turn (A B C A B C ...)."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for i in range(warmup + rounds):
        for name, argv in commands.items():
            r = spawn(argv, cwd=cwd)
            if i >= warmup:
                runs[name].append(r)
    return runs


def summary(values: list[float], scale: float = 1.0) -> dict:
    """Median, quartiles and spread of ``values`` times ``scale``."""
    xs = sorted(v * scale for v in values)
    q = statistics.quantiles(xs, n=4) if len(xs) >= 2 else [xs[0]] * 3
    return {"median": xs[len(xs) // 2] if len(xs) % 2 else statistics.median(xs),
            "q1": q[0], "q3": q[2], "min": xs[0], "max": xs[-1], "n": len(xs),
            "iqr_pct": round(100 * (q[2] - q[0]) / statistics.median(xs), 1)
            if statistics.median(xs) else None}


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b to two places; None when either is missing (a command that failed) or b is 0."""
    return round(a / b, 2) if a is not None and b else None
