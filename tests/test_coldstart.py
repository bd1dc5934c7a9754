"""The kimage program's start and end (validator.cli): run as a program it starts
without cyclic collection and ends with os._exit once its output is flushed; what it
prints and its exit status are those of main() called in a process that ends normally."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "corpus/synthetic/arm64/v5.8-4k-le-anywhere-noefi.img"
BROKEN = b"\0" * 100

#: main() in a process that ends as every Python process does (argv given: not the
#: program, so no os._exit and the collector untouched)
PLAIN = ("import sys; from validator import cli; rc = cli.main(sys.argv[1:]); "
         "sys.stdout.flush(); sys.exit(rc)")


@pytest.mark.parametrize("args", [
    ["check", str(IMG)],
    ["check", "--format", "json", str(IMG)],
    ["check", "--format", "sarif", str(IMG), "BROKEN"],
    ["check", "/nonexistent/vmlinuz"],
    ["inspect", str(IMG)],
    ["lint", "-j", "1", "--format", "junit", str(IMG.parent)],
    ["check", "--no-such-option"],
    ["--version"],
])
def test_the_program_prints_and_exits_as_main_does(args, tmp_path):
    broken = tmp_path / "vmlinuz-broken"
    broken.write_bytes(BROKEN)
    args = [str(broken) if a == "BROKEN" else a for a in args]
    program = subprocess.run([sys.executable, "-m", "validator", *args], cwd=tmp_path,
                             capture_output=True, timeout=300)
    plain = subprocess.run([sys.executable, "-c", PLAIN, *args], cwd=tmp_path,
                           capture_output=True, timeout=300)
    assert program.returncode == plain.returncode
    assert program.stdout == plain.stdout
    assert program.stderr == plain.stderr


def test_a_closed_pipe_is_not_an_error():
    """``kimage check | head -1``: the rest of the output has nowhere to go."""
    proc = subprocess.run(f"{sys.executable} -m validator check {IMG} {IMG} {IMG} | head -c1",
                          shell=True, capture_output=True, timeout=120)
    assert proc.stdout == b"/"
    assert b"Traceback" not in proc.stderr


def test_argparse_messages_are_translated_once():
    import argparse
    import gettext

    import validator.cli  # noqa: F401  (replaces argparse's _ when it imports)

    assert argparse._ is not gettext.gettext
    assert argparse._("usage: ") == gettext.gettext("usage: ")


#: The program (``python -m validator``) with a command that reports the collector as the
#: command finds it: the check's own run is replaced.
COLLECTOR = r"""
import gc, json, runpy, sys
from validator.commands import check
def report(args):
    print(json.dumps({"enabled": gc.isenabled(), "threshold": gc.get_threshold()[0],
                      "frozen": gc.get_freeze_count()}))
    return 0
check.run = report
sys.argv = ["kimage", "check", sys.argv[1]]
runpy.run_module("validator", run_name="__main__")
"""


def test_the_program_collects_the_young_less_often_and_never_its_start_up():
    import json

    from validator.cli import GC_YOUNG

    p = subprocess.run([sys.executable, "-c", COLLECTOR, str(IMG)], capture_output=True,
                       timeout=120, text=True)
    assert p.returncode == 0, p.stderr
    state = json.loads(p.stdout)
    assert state["enabled"] and state["threshold"] == GC_YOUNG > 700
    assert state["frozen"] > 5_000  # the modules, argparse, the parser
