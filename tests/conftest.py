"""Shared fixtures: the corpus manifests and materialised real-kernel excerpts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

from corpus.materialise import excerpts, materialise

#: Hypothesis' draws: "ci" (the default, what `make test` runs) takes the same examples on
#: every run, so a red run is the change's and can be run again; "explore" draws new ones
#: each run (`make fuzz` runs the property tests with it; HYPOTHESIS_PROFILE=explore).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

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


class KexecRuns:
    """loadertruth.kexec.run, once per (mode, arch, suite, image bytes) in a session: the
    same kexec-tools on the same bytes gives the same verdict (test_loadertruth.py's
    test_results_are_deterministic proves it with two real runs, so it does not use
    this), so the tests that offer the same variant to the same loader share one run."""

    def __init__(self):
        import threading

        self._seen: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def run(self, loader: str, image: Path, rel: str, arch: str):
        import dataclasses
        import os

        from loadertruth import kexec
        from loadertruth.common import sha256_file

        sha = sha256_file(image)
        key = (loader, arch, os.environ.get("LOADERTRUTH_SUITE", ""), sha)
        with self._lock:
            seen = self._seen.get(key)
        if seen is None:
            seen = kexec.run(loader, image, rel, arch=arch, sha=sha)
            with self._lock:
                self._seen[key] = seen
        return dataclasses.replace(seen, image=rel)


@pytest.fixture(scope="session")
def kexec_runs() -> KexecRuns:
    return KexecRuns()
