"""Verdict table: variant class x loader, counts of accept / reject / undecided.

    python -m loadertruth.table results.json [--by-variant]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from . import LOADERS


def _cell(c: dict[str, int]) -> str:
    if not c:
        return "-"
    parts = []
    if c.get("accept"):
        parts.append(f"{c['accept']} acc")
    if c.get("reject"):
        parts.append(f"{c['reject']} rej")
    if c.get("none"):
        parts.append(f"{c['none']} ?")
    return ", ".join(parts)


def render(records: list[dict], by_variant: bool = False) -> str:
    """A Markdown table; rows are ``arch/class`` (or ``arch/class--variant``)."""
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int)))
    loaders = [ld for ld in LOADERS if any(r["loader"] == ld for r in records)]
    for r in records:
        cls = r.get("class") or "unclassified"
        row = f"{r['arch']}/{cls}" + (f"--{r.get('variant')}" if by_variant else "")
        key = {True: "accept", False: "reject", None: "none"}[r["accept"]]
        counts[row][r["loader"]][key] += 1
    lines = ["| images | " + " | ".join(loaders) + " |",
             "|---|" + "---|" * len(loaders)]
    for row in sorted(counts):
        lines.append(f"| {row} | " + " | ".join(_cell(counts[row][ld]) for ld in loaders) + " |")
    totals = defaultdict(lambda: defaultdict(int))
    for r in records:
        totals[r["loader"]][{True: "accept", False: "reject", None: "none"}[r["accept"]]] += 1
    lines.append("| **all** | " + " | ".join(_cell(totals[ld]) for ld in loaders) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--by-variant", action="store_true")
    a = ap.parse_args(argv)
    print(render(json.loads(a.results.read_text()), a.by_variant))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
