#!/usr/bin/env python3
"""Assemble a ``kimage-parts/1`` document back into the file a tool wrote.

A parts document keeps a container (a uImage, an Android boot image) as its literal
bytes, with runs of zeros collapsed (``{"zeros": n}``) and stored files it embeds named
by reference (``{"file": "Image.gz"}``, relative to the document); ``size`` and
``sha256`` are those of the tool's output and are checked.

    python3 corpus/kernels/parts.py DOC.parts.json OUT
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def materialise_parts(doc_path: Path, out: Path) -> Path:
    doc = json.loads(Path(doc_path).read_text())
    if doc.get("format") != "kimage-parts/1":
        raise ValueError(f"{doc_path}: not a kimage-parts/1 document")
    digest = hashlib.sha256()
    size = 0
    with open(out, "wb") as f:
        for part in doc["parts"]:
            if "hex" in part:
                data = bytes.fromhex(part["hex"])
            elif "zeros" in part:
                data = bytes(part["zeros"])
            else:
                data = (Path(doc_path).parent / part["file"]).read_bytes()
            f.write(data)
            digest.update(data)
            size += len(data)
    if size != doc["size"] or digest.hexdigest() != doc["sha256"]:
        raise ValueError(f"{doc_path}: assembled {size} bytes do not match the recorded "
                         f"size and sha256")
    return out


if __name__ == "__main__":
    materialise_parts(Path(sys.argv[1]), Path(sys.argv[2]))
