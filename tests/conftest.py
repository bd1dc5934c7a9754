"""Shared fixtures: the corpus manifests and materialised real-kernel excerpts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def synthetic_entries() -> list[dict]:
    return json.loads((CORPUS / "synthetic.json").read_text())["images"]


def real_kernels() -> list[Path]:
    """Directories under corpus/real/ holding an excerpt and its expected facts."""
    real = CORPUS / "real"
    if not real.is_dir():
        return []
    return sorted(p for p in real.iterdir() if (p / "image.excerpt.json").is_file())


def materialise(excerpt: Path, out: Path) -> Path:
    """Write the excerpt as a sparse file of the original size (zeros outside the ranges)."""
    doc = json.loads(excerpt.read_text())
    assert doc["format"] == "kimage-excerpt/1"
    with open(out, "wb") as f:
        f.truncate(doc["source"]["size"])
        for r in doc["ranges"]:
            data = bytes.fromhex(r["hex"])
            assert len(data) == r["length"]
            f.seek(r["offset"])
            f.write(data)
    return out


@pytest.fixture(scope="session")
def real_images(tmp_path_factory) -> dict[str, Path]:
    """name -> path of the materialised real kernel."""
    out = tmp_path_factory.mktemp("real")
    return {d.name: materialise(d / "image.excerpt.json", out / d.name) for d in real_kernels()}
