"""kimage lint on a tree of UKIs and FIT images (made by corpus/uki/make.sh and
corpus/fit/make.sh with ukify and mkimage): every file is found by its name (`*.efi`,
`*.itb`, `fitImage*`), unwrapped and judged, and none is a false alarm."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = {"EFI/Linux/zboot-gzip.efi": ROOT / "build/uki/out/zboot-gzip.efi",
         "EFI/Linux/image.efi": ROOT / "build/uki/out/image-gz.efi",
         "boot/kernel.itb": ROOT / "build/fit/out/tiny-gzip.itb",
         "boot/fitImage": ROOT / "build/fit/out/tiny-plain.itb",
         "boot/fitImage-external": ROOT / "build/fit/out/tiny-external.itb"}


@pytest.mark.skipif(not all(p.is_file() for p in FILES.values()),
                    reason="run corpus/uki/make.sh and corpus/fit/make.sh")
def test_lint_walks_ukis_and_fits(tmp_path):
    for rel, src in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, tmp_path / rel)
    (tmp_path / "boot/kernel.itb.sha256").write_text("not an image\n")
    p = subprocess.run([sys.executable, "-m", "validator", "lint", str(tmp_path), "--format",
                        "json"], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr
    images = {os.path.relpath(i["path"], tmp_path): i for i in json.loads(p.stdout)["images"]}
    assert sorted(images) == sorted(FILES)
    for rel, image in images.items():
        kinds = [layer["kind"] for layer in image["layers"]]
        assert kinds[0] == ("uki" if rel.endswith(".efi") else "fit"), (rel, kinds)
        assert image["format"] == "arm64-image", rel
        assert image["verdict"] == "pass", (rel, image["findings"])
