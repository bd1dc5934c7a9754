"""specs/fdt.ksy (through validator/formats/fit/tree.py) against dtc's own tools: the
header fields fdtdump prints, and every node and property name in the order fdtdump lists
them, for the corpus FITs (mkimage) and a DTB dtc compiled (build/loadertruth's fixture);
string values as fdtget gives them. Skipped where fdtdump/fdtget or the inputs are
missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from validator.formats.fit import tree
from validator.io.source import Source
from validator.io.views import View

ROOT = Path(__file__).resolve().parents[1]
INPUTS = [*sorted((ROOT / "build/fit/out").glob("*.itb")),
          ROOT / "build/loadertruth/fixture-arm64.dtb"]

pytestmark = pytest.mark.skipif(shutil.which("fdtdump") is None or shutil.which("fdtget")
                                is None, reason="device-tree-compiler (fdtdump) missing")

HEADER = {"totalsize": "totalsize", "off_dt_struct": "ofs_structure_block",
          "off_dt_strings": "ofs_strings_block", "version": "version",
          "last_comp_version": "min_compatible_version",
          "size_dt_strings": "len_strings_block", "size_dt_struct": "len_structure_block"}


def fdtdump(path: Path) -> tuple[dict, list[str]]:
    """(header fields, the tree as "node path" and "node path:property" lines in order)."""
    out = subprocess.run(["fdtdump", str(path)], capture_output=True, text=True,
                         errors="replace", timeout=60, check=True).stdout
    header = {k: int(v.split()[0], 0) for k, v in re.findall(r"^// (\w+):\s+(\S+)", out, re.M)}
    lines, stack = [], []
    for line in out.split("\n/ {", 1)[1].splitlines():
        line = line.strip()
        if line.endswith("{"):
            stack.append(line[:-1].strip())
            lines.append("/" + "/".join(stack))
        elif line == "};":
            if stack:
                stack.pop()
        elif line.endswith(";") and not line.startswith("//"):
            name = line.split(" = ", 1)[0].rstrip(";")
            lines.append("/" + "/".join(stack) + ":" + name)
    return header, lines


def ours(path: Path) -> tuple[dict, list[str]]:
    with Source(path) as source:
        t = tree.read(View.whole(source))
    lines: list[str] = []

    def walk(node, at: list[str]) -> None:
        for prop in node.props:
            lines.append("/" + "/".join(at) + ":" + prop)
        for name, child in node.children.items():
            lines.append("/" + "/".join([*at, name]))
            walk(child, [*at, name])
    walk(t.root, [])
    return t.header, lines


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_the_tree_is_what_fdtdump_prints(path):
    if not path.is_file():
        pytest.skip(f"{path} missing (corpus/fit/make.sh, loadertruth)")
    header, lines = fdtdump(path)
    mine, my_lines = ours(path)
    for theirs, key in HEADER.items():
        assert mine[key] == header[theirs], theirs
    # fdtdump prints a node's properties before its subnodes, as they are in the blob
    assert my_lines == lines


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_string_values_are_what_fdtget_gives(path):
    if not path.is_file():
        pytest.skip(f"{path} missing")
    with Source(path) as source:
        t = tree.read(View.whole(source))
        for prop in ("description", "model", "compatible"):
            if prop not in t.root.props:
                continue
            got = subprocess.run(["fdtget", "-t", "s", str(path), "/", prop],
                                 capture_output=True, text=True, timeout=30,
                                 check=True).stdout.strip()
            # a string list: fdtget separates its strings with blanks, text() is the first
            expected = got.split(" ")[0] if prop == "compatible" else got
            assert t.text(t.root, prop) == expected, prop
