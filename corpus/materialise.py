#!/usr/bin/env python3
"""Turn the real-kernel excerpts in corpus/real/ back into files a loader would see.

An excerpt (``kimage-excerpt/1``) keeps the byte ranges of a distro kernel that
kimage reads (headers, the head, the banner) and the full file's size and sha256.
Materialising writes a sparse file of that size with zeros outside the ranges, so
every offset is where it is in the real file.

    python3 corpus/materialise.py --out DIR      # one file per corpus/real/<name>/
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def excerpts() -> list[Path]:
    real = HERE / "real"
    return sorted(real.glob("*/image.excerpt.json")) if real.is_dir() else []


def excerpt_bytes(excerpt: Path, limit: int | None = None) -> bytes:
    """The excerpt's file in memory, or its first ``limit`` bytes."""
    doc = json.loads(excerpt.read_text())
    if doc.get("format") != "kimage-excerpt/1":
        raise ValueError(f"{excerpt}: not a kimage-excerpt/1 document")
    size = doc["source"]["size"] if limit is None else min(limit, doc["source"]["size"])
    buf = bytearray(size)
    for r in doc["ranges"]:
        if r["offset"] < size:
            data = bytes.fromhex(r["hex"])[:size - r["offset"]]
            buf[r["offset"]:r["offset"] + len(data)] = data
    return bytes(buf)


def materialise(excerpt: Path, out: Path) -> Path:
    doc = json.loads(excerpt.read_text())
    if doc.get("format") != "kimage-excerpt/1":
        raise ValueError(f"{excerpt}: not a kimage-excerpt/1 document")
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as f:
        f.truncate(doc["source"]["size"])
        for r in doc["ranges"]:
            data = bytes.fromhex(r["hex"])
            if len(data) != r["length"]:
                raise ValueError(f"{excerpt}: range at {r['offset']:#x} has the wrong length")
            f.seek(r["offset"])
            f.write(data)
    tmp.replace(out)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for excerpt in excerpts():
        name = excerpt.parent.name
        path = materialise(excerpt, args.out / name)
        print(f"{path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
