"""Every file in corpus/kernels/ is read through its wrappers to the inner header, with
the facts its expected.json gives (taken from file, od, readelf, zcat, zstd, dumpimage,
unpack_bootimg and dpkg-deb by corpus/kernels/make_corpus.py, never from kimage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.kernels.parts import materialise_parts
from corpus.materialise import materialise
from tests.conftest import CORPUS
from validator.io.limits import Limits
from validator.pipeline import analyse

KERNELS = CORPUS / "kernels"
FORMAT = {"arm64": "arm64-image", "ppc64": "ppc64-head"}


def entries() -> list[tuple[str, dict]]:
    out = []
    for doc in sorted(KERNELS.glob("*/expected.json")):
        for image in json.loads(doc.read_text())["images"]:
            out.append((doc.parent.name, image))
    return out


ENTRIES = entries()


def _path(variant: str, image: dict, tmp_path: Path) -> Path:
    stored = KERNELS / variant / image["file"]
    if image["kind"] == "whole":
        return stored
    out = tmp_path / image["file"].replace(".excerpt.json", "").replace(".parts.json", "")
    if image["kind"] == "excerpt":
        return materialise(stored, out)
    return materialise_parts(stored, out)


def _check_layers(result, expected: list[dict]) -> None:
    kinds = [layer.kind for layer in result.layers]
    assert kinds == [layer["kind"] for layer in expected]
    for layer, want in zip(result.layers, expected, strict=True):
        for key, value in want.items():
            if key == "kind":
                continue
            assert layer.details.get(key) == value, (layer.kind, key)


@pytest.mark.parametrize(("variant", "image"), ENTRIES,
                         ids=[f"{v}/{i['file']}" for v, i in ENTRIES])
def test_inspect_reaches_the_header(variant, image, tmp_path):
    path = _path(variant, image, tmp_path)
    result = analyse(path)
    expected = image["facts"]
    assert result.format == FORMAT[expected["arch"]]
    assert {k: result.facts.get(k) for k in expected} == expected
    assert result.verdict == "pass", [f.message for f in result.findings]
    lazily = [{k: v for k, v in layer.items()
               if k not in ("decoded_size", "trailing_bytes", "appended_dtb")}
              for layer in image["layers"]]
    _check_layers(result, lazily)
    if image.get("pe"):
        assert result.derived["pe"]["machine"] == image["pe"]["pe_machine"]
        assert result.derived["pe"]["size_of_image"] == image["pe"]["size_of_image"]
        assert result.derived["pe"]["size_of_image_matches_image_size"]


@pytest.mark.parametrize(("variant", "image"),
                         [(v, i) for v, i in ENTRIES if i["kind"] != "excerpt"],
                         ids=[f"{v}/{i['file']}" for v, i in ENTRIES if i["kind"] != "excerpt"])
def test_decoding_everything_gives_the_sizes(variant, image, tmp_path):
    path = _path(variant, image, tmp_path)
    result = analyse(path, Limits(decode_all=True))
    assert result.verdict == "pass", [f.message for f in result.findings]
    _check_layers(result, image["layers"])
    assert result.payload_size == image["payload_size"]


def test_the_corpus_has_every_wrapper():
    kinds = {layer["kind"] for _, image in ENTRIES for layer in image["layers"]}
    assert {"gzip", "zstd", "zboot", "uimage", "android-boot", "deb", "xz", "tar",
            "elf"} <= kinds
    assert {i["kind"] for _, i in ENTRIES} == {"whole", "excerpt", "parts"}


def test_the_corpus_stays_small():
    total = sum(p.stat().st_size for p in KERNELS.rglob("*") if p.is_file())
    assert total < 5 * 1024 * 1024
