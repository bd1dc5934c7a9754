"""Baselines: --write-baseline records today's findings, --baseline reports only new ones;
a rebuild of the same kernel (another build directory, a binNMU, other bytes) still
matches, a new defect does not; stale entries are listed; a bad baseline file or target
is a one-line usage error before anything is checked."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys

import jsonschema
import pytest

from tests.conftest import CORPUS
from tests.test_ci_catalogue import schema
from tests.test_ci_formats import DEB, build_tree, kimage
from validator import baseline


def lint(tree, *args):
    p = kimage("lint", "-j", "1", "--format", "json", *args, "boot", "debs", "kernels",
               cwd=tree)
    return p, (json.loads(p.stdout) if p.stdout else None)


def reported(doc) -> list[tuple[str, str]]:
    return [(i["path"], f["rule"]) for i in doc["images"] for f in i["findings"]]


@pytest.fixture
def tree(tmp_path):
    """A build tree with findings of every severity, and a copy of corpus/kernels."""
    build_tree(tmp_path)
    shutil.copytree(CORPUS / "kernels", tmp_path / "kernels")
    return tmp_path


def test_the_corpus_baselined_then_one_new_defect(tree):
    p, doc = lint(tree)
    assert p.returncode == 1 and len(reported(doc)) >= 5
    p = kimage("lint", "-j", "1", "--write-baseline", "kimage-baseline.json", "boot", "debs",
               "kernels", cwd=tree)
    assert p.returncode == 0, p.stderr  # the findings are now known
    written = json.loads((tree / "kimage-baseline.json").read_text())
    jsonschema.Draft202012Validator(schema("baseline")).validate(written)
    assert sum(e["count"] for e in written["findings"]) == len(reported(doc))

    p, doc = lint(tree, "--baseline", "kimage-baseline.json")
    assert p.returncode == 0 and reported(doc) == [] and p.stderr == ""

    # one new defect: another kernel cut short
    data = (tree / "boot/vmlinuz-6.1.0-50-arm64").read_bytes()
    (tree / "boot/vmlinuz-6.1.0-52-arm64").write_bytes(data[:3 << 20])
    p, doc = lint(tree, "--baseline", "kimage-baseline.json")
    assert p.returncode == 1
    assert reported(doc) == [("boot/vmlinuz-6.1.0-52-arm64", "arm64/file-truncated")]


def test_a_rebuild_elsewhere_still_matches(tree, tmp_path_factory):
    p = kimage("lint", "-j", "1", "--write-baseline", tree / "b.json", "boot", "debs",
               cwd=tree)
    assert p.returncode == 0
    # the same kernels built again in another directory, named by absolute paths; the
    # cut kernel cut at another length (its message changes: its fingerprint does not);
    # the package rebuilt as a binNMU
    other = build_tree(tmp_path_factory.mktemp("rebuild"))
    cut = other / "boot/vmlinuz-6.1.0-51-arm64"
    cut.write_bytes((other / "boot/vmlinuz-6.1.0-50-arm64").read_bytes()[:2 << 20])
    deb = other / "debs" / DEB.name
    deb.rename(deb.with_name(DEB.name.replace("6.1.176-1_", "6.1.176-1+b1_")))
    p = kimage("lint", "-j", "1", "--format", "json", "--baseline", tree / "b.json",
               other / "boot", other / "debs")
    assert p.returncode == 0 and reported(json.loads(p.stdout)) == [], p.stdout


def test_a_new_kernel_version_is_not_the_baselined_one(tree):
    kimage("lint", "-j", "1", "--write-baseline", "b.json", "boot", cwd=tree)
    # the same defect in a kernel of another version (no banner: the file name's)
    (tree / "boot/vmlinuz-3.12.0-1-arm64").rename(tree / "boot/vmlinuz-3.12.0-2-arm64")
    p = kimage("lint", "-j", "1", "--format", "json", "--fail-on", "warning", "--baseline",
               "b.json", "boot", cwd=tree)
    assert p.returncode == 1
    assert sorted(reported(json.loads(p.stdout))) == [
        ("boot/vmlinuz-3.12.0-2-arm64", "arm64/image-size-zero"),
        ("boot/vmlinuz-3.12.0-2-arm64", "arm64/no-efi-stub")]
    # and its old entries are stale
    assert "2 entries no longer found" in p.stderr


def test_the_fingerprint_is_rule_image_pattern_version_field(tree):
    """What a baseline records, read back from the file."""
    kimage("lint", "-j", "1", "--write-baseline", "b.json", "boot", "debs", cwd=tree)
    entries = {(e["rule"], e["image"], e["version"], e["field"], e["count"])
               for e in json.loads((tree / "b.json").read_text())["findings"]}
    assert entries == {
        ("arm64/image-size-zero", "vmlinuz-*-arm64", "3.12.0-1", "image_size", 1),
        ("arm64/no-efi-stub", "vmlinuz-*-arm64", "3.12.0-1", "code0", 1),
        ("arm64/file-truncated", "vmlinuz-*-arm64", "6.1.0-51", "pe_offset", 1)}


@pytest.mark.parametrize("builtin", [True, False], ids=["cpython-sha256", "hashlib"])
def test_fingerprints_are_sha256_of_the_key(builtin, monkeypatch):
    """A fingerprint is the first 32 hexadecimal digits of SHA-256 over FORMAT, rule,
    image pattern, version and field joined by NUL (a repeat: over ``fp:n``), whether
    CPython's own SHA-256 or hashlib's computes it: baselines and code-scanning alerts
    keep matching. The expected digests are hashlib's."""
    monkeypatch.setattr(baseline, "_SHA256", [])
    if not builtin:
        monkeypatch.setitem(sys.modules, "_sha2", None)
        monkeypatch.setitem(sys.modules, "_sha256", None)
    key = "\0".join(("kimage-baseline/1", "arm64/no-efi-stub", "vmlinuz-*-arm64",
                     "6.1.0-50", "code0"))
    fp = baseline.fingerprint("arm64/no-efi-stub", "vmlinuz-*-arm64", "6.1.0-50", "code0")
    assert fp == hashlib.sha256(key.encode()).hexdigest()[:32]
    assert (baseline._SHA256[0] is hashlib.sha256) is not builtin
    unique = baseline.Unique()
    assert [unique(fp) for _ in range(3)] == [
        fp, *(hashlib.sha256(f"{fp}:{n}".encode()).hexdigest()[:32] for n in (1, 2))]


def test_stale_entries_are_listed_and_do_not_fail(tree):
    kimage("lint", "-j", "1", "--write-baseline", "b.json", "boot", cwd=tree)
    (tree / "boot/vmlinuz-6.1.0-51-arm64").unlink()  # the cut kernel is gone
    p = kimage("lint", "-j", "1", "--baseline", "b.json", "boot", cwd=tree)
    assert p.returncode == 0
    assert p.stderr.splitlines() == [
        "kimage: baseline b.json: 1 entry no longer found (fixed, or the image is gone):",
        "  arm64/file-truncated in vmlinuz-*-arm64 (6.1.0-51) field pe_offset"]


def test_a_count_matches_that_many_findings(tree):
    kimage("lint", "-j", "1", "--write-baseline", "b.json", "boot", cwd=tree)
    (tree / "more/boot").mkdir(parents=True)
    shutil.copy(tree / "boot/vmlinuz-3.12.0-1-arm64", tree / "more/boot")
    # the same file under a second root: its findings have the same fingerprints, and
    # the baseline holds each once
    p = kimage("lint", "-j", "1", "--format", "json", "--fail-on", "info", "--baseline",
               "b.json", "boot", "more/boot", cwd=tree)
    assert p.returncode == 1
    assert {path for path, _ in reported(json.loads(p.stdout))} == {
        "more/boot/vmlinuz-3.12.0-1-arm64"}


def test_check_takes_a_baseline_too(tmp_path):
    image = tmp_path / "Image"
    shutil.copy(CORPUS / "synthetic/arm64/v3.12-le-noefi.img", image)
    assert kimage("check", "--fail-on", "warning", image).returncode == 1
    p = kimage("check", "--fail-on", "warning", "--write-baseline", tmp_path / "b.json", image)
    assert p.returncode == 0
    p = kimage("check", "--fail-on", "warning", "--format", "json", "--baseline",
               tmp_path / "b.json", image)
    assert p.returncode == 0 and reported(json.loads(p.stdout)) == []
    (written,) = [e for e in json.loads((tmp_path / "b.json").read_text())["findings"]
                  if e["rule"] == "arm64/image-size-zero"]
    assert written["image"] == "Image"  # a file given itself: its base name


@pytest.mark.parametrize("content,why", [
    (b"{not json", "not JSON"),
    (b'{"format": "something/1", "findings": []}', "not a kimage-baseline/1 file"),
    (b'{"format": "kimage-baseline/1", "findings": [{"fingerprint": "x"}]}',
     "fingerprint is not 32 hexadecimal digits"),
    (b"[" * 100000 + b"]" * 100000, "not"),
])
def test_a_bad_baseline_is_a_usage_error(content, why, tmp_path):
    (tmp_path / "b.json").write_bytes(content)
    p = kimage("lint", "--baseline", tmp_path / "b.json", tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and why in p.stderr and "Traceback" not in p.stderr


def test_baseline_files_that_are_not_regular_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = kimage("lint", "--baseline", fifo, tmp_path, timeout=20)
    assert p.returncode == 2 and "FIFO" in p.stderr and "refused before reading" in p.stderr
    p = kimage("lint", "--write-baseline", fifo, tmp_path, timeout=20)
    assert p.returncode == 2 and "not a regular file" in p.stderr
    p = kimage("lint", "--baseline", tmp_path / "missing.json", tmp_path)
    assert p.returncode == 2 and "no such file" in p.stderr
    p = kimage("lint", "--baseline", fifo, "--write-baseline", tmp_path / "x", tmp_path)
    assert p.returncode == 2 and "not allowed with" in p.stderr


@pytest.mark.parametrize("name,want", [
    ("vmlinuz-6.1.0-50-arm64", "vmlinuz-*-arm64"),
    ("boot/config-6.1.0-50-arm64", "boot/config-*-arm64"),
    ("linux-image-6.1.0-50-arm64_6.1.176-1_arm64.deb", "linux-image-*-arm64_*_arm64.deb"),
    ("linux-image-6.1.0-50-arm64_6.1.176-1+deb12u1_arm64.deb",
     "linux-image-*-arm64_*_arm64.deb"),
    ("arm64-4k-le-efi/Image.gz", "arm64-4k-le-efi/Image.gz"),
    ("vmlinuz-5.10.0-rc3", "vmlinuz-*-rc3"),
    ("ppc64le/vmlinux", "ppc64le/vmlinux"),
])
def test_version_like_parts_of_names(name, want):
    assert baseline.pattern(name) == want
