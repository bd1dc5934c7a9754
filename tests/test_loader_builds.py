"""Loader models by build: ``--loader NAME@VERSION+BUILD`` and ``by_build``.

Inputs are real kernels (corpus/kernels: zboot images with gzip and zstd payloads made by
the kernel's own build, its Image.gz, a ppc64le vmlinux) and files made from them by
independent tools (Python's gzip, lzma and zstandard; U-Boot's mkimage). Expected verdicts
come from the real Debian binaries and the upstream sources, not from the models:

- Debian's kexec-tools 2.0.25, 2.0.29 and 2.0.32 (arm64) run under qemu-user: the table
  ``REAL`` of tests/test_loadertruth_versions.py, which asserts each of them against the
  binary whenever it is unpacked; Debian 12's ppc64el kexec-tools refuses a gzip'd
  vmlinux ("Cannot determine the file type", run for this test: ``readelf -d`` of that
  kexec needs libc only, and Debian's Build-Depends has ``libz-dev [arm64 ia64]``) and
  Debian 12's arm64 kexec-tools loads a gzip uImage and refuses an lzma one (mkimage -C
  gzip / -C lzma);
- upstream: kexec-tools v2.0.31 a7fcd42 adds kexec/zstd.c to slurp_decompress_file and
  "zstd" to the zboot names; configure.ac links libzstd when found, so an upstream build
  undoes zstd from 2.0.31; kexec/kexec-uImage.c uImage_probe takes IH_COMP_NONE and,
  with zlib, IH_COMP_GZIP only.
"""

from __future__ import annotations

import gzip
import json
import lzma
import os
import shutil
import subprocess
import sys

import jsonschema
import pytest

from tests.conftest import CORPUS, ROOT
from tests.test_loadertruth_versions import REAL
from validator import checker, loaders
from validator.loaders import kexec_tools
from validator.report_schema import SCHEMA
from validator.rules.engine import Context

KERNELS = CORPUS / "kernels"
ZBOOT_GZIP = KERNELS / "arm64-4k-le-zboot-gzip/vmlinuz.efi"
ZBOOT_ZSTD = KERNELS / "arm64-4k-le-zboot-zstd/vmlinuz.efi"
IMAGE_GZ = KERNELS / "arm64-4k-le-efi/Image.gz"


def kimage(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # this tree's validator from any cwd
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=env)


def verdict(path, spec):
    result = checker.check_image(path, checker.Options(loaders={spec}))
    (v,) = result.loaders.values()
    return v


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    out = tmp_path_factory.mktemp("builds")
    zstandard = pytest.importorskip("zstandard")
    zst = out / "Image.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(gzip.decompress(IMAGE_GZ.read_bytes())))
    return {"zboot-gzip": ZBOOT_GZIP, "zboot-zstd": ZBOOT_ZSTD, "Image.gz": IMAGE_GZ,
            "Image.zst": zst}


@pytest.mark.parametrize("release", ["2.0.25", "2.0.29", "2.0.32"])
def test_debian_build_gives_the_real_debian_verdict(images, release):
    for name, path in images.items():
        v = verdict(path, f"kexec-tools@{release}+debian")
        assert (v["verdict"] == "accept") is REAL[name][release], (name, v)
        assert (v["version"], v["build"], v["libraries"]) == (release, "debian", ["zlib"])
        assert "by_build" not in v and "by_version" not in v


def test_zstd_needs_libzstd_from_2_0_31(images):
    for name in ("zboot-zstd", "Image.zst"):
        up = verdict(images[name], "kexec-tools@2.0.32")
        deb = verdict(images[name], "kexec-tools@2.0.32+debian")
        assert (up["verdict"], up["build"]) == ("accept", "upstream")
        assert (deb["verdict"], deb["reasons"]) == ("reject", ["loader/codec-not-linked"])
        # before 2.0.31 no build undoes zstd: the version decides, not the build
        old = verdict(images[name], "kexec-tools@2.0.30+debian")
        assert old["reasons"] == verdict(images[name], "kexec-tools@2.0.30")["reasons"] != [
            "loader/codec-not-linked"]


def test_xz_needs_liblzma(tmp_path):
    path = tmp_path / "Image.xz"
    path.write_bytes(lzma.compress(gzip.decompress(IMAGE_GZ.read_bytes())))
    assert verdict(path, "kexec-tools@2.0.25")["verdict"] == "accept"
    assert verdict(path, "kexec-tools@2.0.25+debian")["reasons"] == ["loader/codec-not-linked"]


def test_judge_contract_one_build(images):
    """``judge(ctx, findings, only=["kexec-tools@2.0.29+debian"])``: exactly that build."""
    result = checker.check_image(images["Image.zst"], checker.Options())
    out = loaders.judge(Context(result), result.findings, only=["kexec-tools@2.0.32+debian"])
    assert list(out) == ["kexec-tools"]
    v = out["kexec-tools"]
    assert (v.verdict, v.reasons, v.version, v.build, v.libraries, v.by_build) == (
        "reject", ["loader/codec-not-linked"], "2.0.32", "debian", ("zlib",), None)


def test_without_a_build_by_build_lists_the_builds_that_differ(images):
    result = checker.check_image(images["zboot-zstd"], checker.Options())
    kt = result.loaders["kexec-tools"]
    assert (kt["verdict"], kt["build"], kt["libraries"]) == (
        "accept", "upstream", ["zlib", "liblzma", "libzstd"])
    assert [(b["build"], b["title"], b["libraries"], b["verdict"], b["reasons"])
            for b in kt["by_build"]] == [
        ("debian", "Debian's build", ["zlib"], "reject", ["loader/codec-not-linked"])]
    # the reason is a reported finding, of kexec-tools, saying which build and why
    (f,) = [f for f in result.findings if f.rule == "loader/codec-not-linked"]
    assert f.severity == "info" and f.loaders == ["kexec-tools"]
    assert "Debian's build" in f.message and "libzstd" in f.message
    # builds that agree are not listed
    assert checker.check_image(images["zboot-gzip"], checker.Options()).loaders[
        "kexec-tools"]["by_build"] == []
    assert verdict(images["zboot-zstd"], "kexec-tools@2.0.29")["by_build"] == []
    # loaders without builds say nothing of builds
    assert "by_build" not in result.loaders["efi"] and "build" not in result.loaders["efi"]


def test_ppc64_debian_build_has_no_zlib(tmp_path):
    from tests.conftest import materialise

    vmlinux = materialise(KERNELS / "ppc64le-reloc/vmlinux.excerpt.json", tmp_path / "vmlinux")
    gz = tmp_path / "vmlinux.gz"
    gz.write_bytes(gzip.compress(vmlinux.read_bytes()))
    assert verdict(vmlinux, "kexec-tools@2.0.25+debian")["verdict"] == "accept"
    deb = verdict(gz, "kexec-tools@2.0.25+debian")
    assert (deb["verdict"], deb["reasons"], deb["libraries"]) == (
        "reject", ["loader/codec-not-linked"], [])
    assert verdict(gz, "kexec-tools@2.0.25")["verdict"] == "accept"


@pytest.mark.skipif(shutil.which("mkimage") is None, reason="mkimage (u-boot-tools) missing")
@pytest.mark.parametrize(("comp", "accept"), [("none", True), ("gzip", True), ("lzma", False)])
def test_uimage_compression(tmp_path, comp, accept):
    image = gzip.decompress(IMAGE_GZ.read_bytes())
    data = {"none": image, "gzip": gzip.compress(image),
            "lzma": lzma.compress(image, format=lzma.FORMAT_ALONE)}[comp]
    (tmp_path / "payload").write_bytes(data)
    out = tmp_path / f"uImage-{comp}"
    subprocess.run(["mkimage", "-A", "arm64", "-O", "linux", "-T", "kernel", "-C", comp,
                    "-a", "0x40080000", "-e", "0x40080000", "-n", "t", "-d",
                    tmp_path / "payload", out], check=True, capture_output=True, timeout=60)
    for spec in ("kexec-tools@2.0.25+debian", "kexec-tools@2.0.32"):
        v = verdict(out, spec)
        assert (v["verdict"] == "accept") is accept, (spec, v)
        if not accept:
            assert v["reasons"] == ["layer/compressed"]


def test_build_for_distro():
    assert kexec_tools.build_for_distro("debian") == "debian"
    # not read from their packages here: unknown, not guessed
    for other in ("ubuntu", "fedora", "rhel", "", "Debian GNU/Linux", None, 12):
        assert kexec_tools.build_for_distro(other) is None, other


def test_parse_spec_and_split_build():
    assert loaders.parse_spec("kexec-tools@2.0.29+debian") == ("kexec-tools", "2.0.29+debian")
    assert loaders.split_build("2.0.29+debian") == ("2.0.29", "debian")
    assert loaders.split_build("2.0.29") == ("2.0.29", None)
    assert loaders.version_key("2.0.29+debian") == loaders.version_key("2.0.29")


@pytest.mark.parametrize(("spec", "says"), [
    ("kexec-tools@2.0.29+", "unknown build ''"),
    ("kexec-tools@2.0.29+fedora", "unknown build 'fedora'"),
    ("kexec-tools@2.0.29+debian+x", "unknown build 'debian+x'"),
    ("efi@2025.02+debian", "efi has no builds modelled"),
    ("kexec-tools@1.0+debian", "modelled from 2.0.25"),
    ("kexec-tools@+debian", "expected kexec-tools@VERSION")])
def test_cli_bad_build_is_one_line(spec, says):
    p = kimage("check", "--loader", spec, ZBOOT_GZIP)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and says in p.stderr, p.stderr


def test_cli_build_json_and_text(images):
    p = kimage("check", "--format", "json", "--loader", "kexec-tools@2.0.32+debian",
               ZBOOT_ZSTD)
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    jsonschema.validate(doc, SCHEMA)
    (image,) = doc["images"]
    kt = image["loaders"]["kexec-tools"]
    assert (kt["verdict"], kt["build"], kt["version"]) == ("reject", "debian", "2.0.32")
    assert "loader/rejects" in {f["rule"] for f in image["findings"]}
    text = kimage("check", "--loader", "kexec-tools@2.0.32+debian", ZBOOT_ZSTD).stdout
    assert "kexec-tools@2.0.32+debian REJECTS (loader/codec-not-linked)" in text
    p = kimage("check", "--format", "json", ZBOOT_ZSTD)
    jsonschema.validate(json.loads(p.stdout), SCHEMA)
    lint = kimage("lint", "--loader", "kexec-tools@2.0.32+debian", ZBOOT_ZSTD.parent)
    assert "kexec-tools@2.0.32+debian REJECTS (loader/codec-not-linked)" in lint.stdout
    text = kimage("check", ZBOOT_ZSTD).stdout
    assert ("kexec-tools accepts at 2.0.32 (2.0.25\u20132.0.30 REJECT: layer/zboot), but "
            "Debian's build (zlib only) REJECTS: loader/codec-not-linked") in text


def test_tool_kimage_loaders_with_a_build(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kimage]\nloaders = ["kexec-tools@2.0.32+debian"]\n')
    p = kimage("check", "--format", "json", ZBOOT_GZIP, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    (image,) = json.loads(p.stdout)["images"]
    kt = image["loaders"]["kexec-tools"]
    assert (kt["verdict"], kt["build"], kt["libraries"]) == ("accept", "debian", ["zlib"])
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kimage]\nloaders = ["kexec-tools@2.0.32+nope"]\n')
    p = kimage("check", ZBOOT_GZIP, cwd=tmp_path)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_uimage_crc_checks_need_zlib():
    """kexec/kexec-uImage.c uImage_probe: both CRC checks are inside ``#ifdef HAVE_LIBZ``."""
    crc = {"uimage/bad-header-crc", "uimage/bad-data-crc"}
    assert crc <= set(loaders.rejects_at(kexec_tools, "2.0.32", ("zlib",)))
    assert not crc & set(loaders.rejects_at(kexec_tools, "2.0.32", ()))
    assert crc <= loaders.rejects_any_version(kexec_tools)
