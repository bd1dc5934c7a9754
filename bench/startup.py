"""Part 5, where a cold ``kimage check`` goes: its instructions split into the stages a
start runs through, each counted under callgrind in a process of its own (no times: the
stages are too short to time apart), in the regular ``pip install .`` venv.

The stages, one process each, every one stopping with ``os._exit`` as kimage does:

- the interpreter up to its first line, and ``python3 -I -c pass`` (which adds the
  interpreter's teardown, which kimage skips);
- ``import re`` with the garbage collector on, as the console script pip writes does
  before any of kimage's code runs, and with it off;
- ``import argparse``, the collector off (kimage turns it off before argparse);
- kimage's own imports for the image (the modules a check of it imports, recorded once,
  imported in that order), then building the ``check`` parser, then parsing the command
  line, then the check itself: each process runs one stage further;
- the console script itself (``bin/kimage check IMAGE``);
- two costs every check pays: importing an empty module (40 of them, one package), and
  building an ``IntEnum`` of 2, 8 and 16 members with enum's functional API (a generated
  Kaitai parser builds one, with a class statement, for each enum of its spec when it
  is imported).

``derived`` holds the differences: what each stage adds to the one before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.coldstart import VALGRIND, instructions

#: Records the modules ``kimage check`` imports, in the order their imports start.
_RECORD = """
import json, sys, importlib._bootstrap as b
order, load = [], b._load_unlocked
def record(spec):
    order.append(spec.name)
    return load(spec)
b._load_unlocked = record
out = sys.argv.pop(1)
sys.argv = ["kimage"] + sys.argv[1:]
import os
real_exit = os._exit
def done(code=0):
    with open(out, "w") as f:
        json.dump(order, f)
    real_exit(code)
os._exit = done
from validator.cli import main
done(main())
"""

#: Runs a check up to stage ``argv[3]`` (0 imports, 1 parser, 2 command line, 3 check).
_STAGES = """
import gc
gc.disable()
import os, sys
image, modules, stage = sys.argv[1], sys.argv[2], int(sys.argv[3])
import argparse
for name in modules.split(","):
    __import__(name)
if stage >= 1:
    from validator.cli import build_parser
    parser = build_parser("check")
if stage >= 2:
    args = parser.parse_args(["check", image])
if stage >= 3:  # as validator.cli.main: start-up frozen, young objects every GC_YOUNG
    from validator.cli import GC_YOUNG
    gc.freeze()
    gc.set_threshold(GC_YOUNG)
    gc.enable()
    args.run(args)
sys.stdout.flush()
os._exit(0)
"""

_EMPTY = """
import gc
gc.disable()
import os, sys
sys.path.insert(0, sys.argv[1])
for i in range(int(sys.argv[2])):
    __import__(f"emptypkg.m{i}")
os._exit(0)
"""

EMPTY_MODULES = 40
ENUM_SIZES = (2, 8, 16)


def measure(bin_dir: Path, images: dict[str, Path], work: Path) -> dict:
    """``{"images": {label: {"steps": ..., "derived": ...}}, "common": ...}``; empty
    (with a note) without valgrind."""
    if VALGRIND is None:
        return {"note": "valgrind is not installed: no instruction counts"}
    py = str(bin_dir / "python")
    scripts = work / "startup"
    scripts.mkdir(exist_ok=True)
    for name, text in (("record.py", _RECORD), ("stages.py", _STAGES), ("empty.py", _EMPTY)):
        (scripts / name).write_text(text)
    package = scripts / "emptypkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    for i in range(EMPTY_MODULES):
        (package / f"m{i}.py").write_text(f"x = {i}\n")
    subprocess.run([py, "-m", "compileall", "-q", str(package)], check=True)

    def count(*args: str) -> int | None:
        return instructions([py, "-I", *args], scripts)

    common = {
        "interpreter to its first line": count("-c", "import os; os._exit(0)"),
        "python3 -I -c pass": count("-c", "pass"),
        "import re, collector on": count("-c", "import re, os; os._exit(0)"),
        "import re, collector off": count(
            "-c", "import gc; gc.disable(); import re, os; os._exit(0)"),
        "import argparse, collector off": count(
            "-c", "import gc; gc.disable(); import argparse, os; os._exit(0)"),
        "empty modules: none": count(str(scripts / "empty.py"), str(scripts), "0"),
        f"empty modules: {EMPTY_MODULES}": count(str(scripts / "empty.py"), str(scripts),
                                                 str(EMPTY_MODULES)),
    }
    common["no IntEnum"] = count(
        "-c", "import gc; gc.disable(); import os; from enum import IntEnum; os._exit(0)")
    for n in ENUM_SIZES:
        common[f"IntEnum of {n} members"] = count(
            "-c", "import gc; gc.disable(); import os; from enum import IntEnum; "
                  f"IntEnum('E', [('m%d' % i, i) for i in range({n})]); os._exit(0)")
    out = {"common": {"steps": common, "derived": _common_derived(common)}, "images": {}}
    for label, image in images.items():
        listed = scripts / "modules.json"
        subprocess.run([py, "-I", str(scripts / "record.py"), str(listed), "check",
                        str(image)], cwd=scripts, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        modules = [m for m in json.loads(listed.read_text())
                   if m.split(".")[0] in ("validator", "kaitaistruct")]
        steps = {f"stage {i}: {name}": count(str(scripts / "stages.py"), str(image),
                                             ",".join(modules), str(i))
                 for i, name in enumerate(("imports", "check parser", "command line",
                                           "check"))}
        steps["console script"] = instructions([str(bin_dir / "kimage"), "check",
                                                str(image)], scripts)
        out["images"][label] = {"modules": len(modules), "steps": steps,
                                "derived": _derived(steps, common)}
    return out


def _diff(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a - b


def _common_derived(c: dict) -> dict:
    none, many = c["empty modules: none"], c[f"empty modules: {EMPTY_MODULES}"]
    out = {
        "the interpreter's teardown": _diff(c["python3 -I -c pass"],
                                            c["interpreter to its first line"]),
        "the collector while re is imported": _diff(c["import re, collector on"],
                                                    c["import re, collector off"]),
        "argparse (re, enum, gettext) over the interpreter": _diff(
            c["import argparse, collector off"], c["interpreter to its first line"]),
        "an empty module": None if none is None or many is None else
        round((many - none) / EMPTY_MODULES),
    }
    base = c["no IntEnum"]
    for n in ENUM_SIZES:
        out[f"an IntEnum of {n} members"] = _diff(c[f"IntEnum of {n} members"], base)
    return out


def _derived(s: dict, c: dict) -> dict:
    stages = [s[k] for k in s if k.startswith("stage ")]
    return {
        "kimage's imports (and the Kaitai runtime's)": _diff(
            stages[0], c["import argparse, collector off"]),
        "building the check parser": _diff(stages[1], stages[0]),
        "parsing the command line": _diff(stages[2], stages[1]),
        "the check": _diff(stages[3], stages[2]),
        "the console script over the stages": _diff(s["console script"], stages[3]),
    }


def show(r: dict) -> None:
    print("\n== where a cold check goes (instructions, callgrind)")
    if "note" in r:
        print(f"  {r['note']}")
        return
    for name, n in {**r["common"]["steps"], **r["common"]["derived"]}.items():
        print(f"  {name:52s} {_m(n)}")
    for label, img in r["images"].items():
        print(f"-- {label} ({img['modules']} modules of kimage's and Kaitai's)")
        for name, n in {**img["steps"], **img["derived"]}.items():
            print(f"  {name:52s} {_m(n)}")


def _m(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:8.2f} M"


if __name__ == "__main__":  # python -m bench.startup BIN_DIR IMAGE...
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kimage-startup-") as tmp:
        show(measure(Path(sys.argv[1]), {Path(p).name: Path(p) for p in sys.argv[2:]},
                     Path(tmp)))
