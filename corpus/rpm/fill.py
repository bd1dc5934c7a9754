#!/usr/bin/env python3
"""Write each real-kernel excerpt (corpus/real/*/image.excerpt.json) as a file of its real
size whose kept ranges are the real bytes and whose other bytes are seeded pseudo-random
filler (not zeros): a packaged kernel then compresses as a real one does, about 1:1, not
as a run of zeros would (kimage reports a payload decoding at more than 256:1 as a
decompression bomb).

    python3 corpus/rpm/fill.py --out DIR      # DIR/<name>, one per corpus/real/<name>/
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

REAL = Path(__file__).resolve().parent.parent / "real"
CHUNK = 1 << 20


def fill(excerpt: Path, out: Path) -> None:
    doc = json.loads(excerpt.read_text())
    size = doc["source"]["size"]
    rng = random.Random(doc["source"]["sha256"])
    with open(out, "wb") as f:
        for pos in range(0, size, CHUNK):
            f.write(rng.randbytes(min(CHUNK, size - pos)))
        for r in doc["ranges"]:
            f.seek(r["offset"])
            f.write(bytes.fromhex(r["hex"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for excerpt in sorted(REAL.glob("*/image.excerpt.json")):
        fill(excerpt, args.out / excerpt.parent.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
