"""Shared fixtures: the corpus manifests and materialised real-kernel excerpts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.materialise import excerpts, materialise

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def synthetic_entries() -> list[dict]:
    return json.loads((CORPUS / "synthetic.json").read_text())["images"]


def real_kernels() -> list[Path]:
    """Directories under corpus/real/ holding an excerpt and its expected facts."""
    return [p.parent for p in excerpts()]


@pytest.fixture(scope="session")
def real_images(tmp_path_factory) -> dict[str, Path]:
    """name -> path of the materialised real kernel."""
    out = tmp_path_factory.mktemp("real")
    return {d.name: materialise(d / "image.excerpt.json", out / d.name) for d in real_kernels()}
