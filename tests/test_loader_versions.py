"""Loader models by version: ``--loader NAME@VERSION`` and ``by_version``.

Inputs are real kernels (corpus/kernels: zboot images with gzip and zstd payloads made by
the kernel's own build, and its Image.gz). Expected verdicts come from the loaders' own
sources at their tags (horms/kexec-tools; GRUB), read for this test, not from the models:

- v2.0.25/v2.0.26 kexec/arch/arm64/kexec-arm64.c file_type[] has no "vmlinuz" entry;
- v2.0.27 kexec-vmlinuz-arm64.c pez_arm64_load hands only the fd over (no kexec_load);
- v2.0.28 pez_arm64_load reads the decompressed fd and calls image_arm64_load (8f08e3b);
- v2.0.29/v2.0.30 kexec-pe-zboot.c compares compress_type with "gzip" and "lzma" only;
- v2.0.31 adds "zstd" there and kexec/zstd.c to slurp_decompress_file (a7fcd42);
- grub-2.06 grub_arch_efi_linux_check_image compares the ARM\\x64 magic first; 2.12 does
  not.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import jsonschema
import pytest

from tests.conftest import CORPUS, ROOT
from validator import checker, loaders
from validator.report_schema import SCHEMA

ZBOOT_GZIP = CORPUS / "kernels/arm64-4k-le-zboot-gzip/vmlinuz.efi"
ZBOOT_ZSTD = CORPUS / "kernels/arm64-4k-le-zboot-zstd/vmlinuz.efi"
IMAGE_GZ = CORPUS / "kernels/arm64-4k-le-efi/Image.gz"


def kimage(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # this tree's validator from any cwd
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=env)


def verdict(path, spec):
    result = checker.check_image(path, checker.Options(loaders={spec}))
    (v,) = result.loaders.values()
    return v


@pytest.mark.parametrize(("version", "accept"), [
    ("2.0.25", False), ("2.0.26", False), ("2.0.27", False), ("2.0.28", True),
    ("2.0.29", True), ("2.0.30", True), ("2.0.31", True), ("2.0.32", True)])
def test_kexec_tools_gzip_zboot_through_kexec_load_from_2_0_28(version, accept):
    v = verdict(ZBOOT_GZIP, f"kexec-tools@{version}")
    assert (v["verdict"] == "accept") is accept
    assert v["version"] == version and "by_version" not in v
    if not accept:
        assert v["reasons"] == ["layer/zboot"]


@pytest.mark.parametrize(("version", "accept"), [
    ("2.0.28", False), ("2.0.29", False), ("2.0.30", False), ("2.0.31", True),
    ("2.0.32", True)])
def test_kexec_tools_zstd_zboot_from_2_0_31(version, accept):
    assert (verdict(ZBOOT_ZSTD, f"kexec-tools@{version}")["verdict"] == "accept") is accept


def test_a_version_between_releases_is_judged_as_the_release_before():
    # 2.0.29-2+b1 (Debian's) is 2.0.29; "2.0.30.1" stands for 2.0.30
    assert verdict(ZBOOT_ZSTD, "kexec-tools@2.0.30.1")["verdict"] == "reject"
    assert verdict(ZBOOT_ZSTD, "kexec-tools@2.0.31.5")["verdict"] == "accept"


def test_raw_zstd_image_needs_2_0_31(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    path = tmp_path / "Image.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(gzip.decompress(IMAGE_GZ.read_bytes())))
    old = verdict(path, "kexec-tools@2.0.30")
    assert old["verdict"] == "reject" and old["reasons"] == ["layer/compressed"]
    assert verdict(path, "kexec-tools@2.0.31")["verdict"] == "accept"
    assert verdict(IMAGE_GZ, "kexec-tools@2.0.25")["verdict"] == "accept"


def test_grub_2_06_refuses_zboot_2_12_starts_it():
    assert verdict(ZBOOT_GZIP, "grub@2.06")["reasons"] == ["layer/zboot"]
    assert verdict(ZBOOT_GZIP, "grub@2.12")["verdict"] == "accept"


def test_debian_grub_2_06_has_no_magic_check(tmp_path):
    """Debian 12's GRUB 2.06-13 carries upstream's removal of the ARM\\x64 magic check
    (debian/patches/arm64_remove_magic_number_check.patch, upstream 69edb312 from 2.12):
    its signed GRUB, run under EDK2, starts a zboot and an Image with a wrong magic
    (loadertruth/grub.py; tests/test_loadertruth_grub.py). An upstream 2.06 refuses both."""
    assert verdict(ZBOOT_GZIP, "grub@2.06+debian")["verdict"] == "accept"
    bad = tmp_path / "Image-bad-magic"
    data = bytearray(gzip.decompress(IMAGE_GZ.read_bytes()))
    data[0x38] ^= 1
    bad.write_bytes(bytes(data))
    upstream = verdict(bad, "grub@2.06")
    assert (upstream["verdict"], upstream["reasons"]) == ("reject", ["arm64/bad-magic"])
    assert verdict(bad, "grub@2.06+debian")["verdict"] == "accept"
    assert verdict(bad, "grub@2.12")["verdict"] == "accept"
    # asked for 2.06 without a build: the upstream build's verdict, Debian's in by_build
    v = verdict(bad, "grub@2.06")
    assert [(b["build"], b["verdict"]) for b in v["by_build"]] == [("debian", "accept")]
    # the text report names the build by its patch
    out = kimage("check", "--loader", "grub@2.06", bad).stdout
    assert ("grub@2.06 REJECTS (arm64/bad-magic), but Debian's build (patched: "
            "arm64_remove_magic_number_check) accepts") in out, out


@pytest.mark.parametrize("lie", ["codec", "offset", "size"])
def test_a_zboot_header_that_misleads_is_started_by_its_own_stub(lie, tmp_path):
    """The zboot header's payload fields (codec name at 0x18, payload offset at 0x08 and
    size at 0x0c) mislead kexec-tools and QEMU, which refuse the image; the firmware, and
    GRUB from 2.12 through it, start the image's own stub, which reads none of them:
    EDK2 2022.11, 2025.02 and 2026.08 boot such an image to "EFI stub: Booting Linux
    Kernel..." (tests/test_loadertruth_versions.py, the 353 loader-truth variants)."""
    data = bytearray(ZBOOT_GZIP.read_bytes())
    if lie == "codec":
        data[0x18:0x38] = b"lz4".ljust(0x20, b"\0")
    elif lie == "offset":
        data[0x08:0x0C] = (len(data) + 0x1000).to_bytes(4, "little")
    else:
        data[0x0C:0x10] = b"\0\0\0\0"
    image = tmp_path / f"vmlinuz-{lie}.efi"
    image.write_bytes(bytes(data))
    assert verdict(image, "efi@2025.02")["verdict"] == "accept"
    assert verdict(image, "grub@2.12")["verdict"] == "accept"
    assert verdict(image, "grub@2.06")["reasons"] == ["layer/zboot"]
    refused = verdict(image, "kexec-tools@2.0.32")
    assert refused["verdict"] == "reject" and refused["reasons"][0].startswith("zboot/")
    # a payload that the header finds and that fails to decode stops the stub too
    bad = bytearray(ZBOOT_GZIP.read_bytes())
    offset = int.from_bytes(bad[0x08:0x0C], "little")
    bad[offset + 64:offset + 4096] = bytes(4096 - 64)
    corrupt = tmp_path / "vmlinuz-corrupt.efi"
    corrupt.write_bytes(bytes(bad))
    assert verdict(corrupt, "efi@2025.02")["verdict"] == "reject"


def test_newest_release_with_the_differing_ranges():
    result = checker.check_image(ZBOOT_ZSTD, checker.Options())
    kt = result.loaders["kexec-tools"]
    assert (kt["verdict"], kt["version"]) == ("accept", "2.0.32")
    assert [(r["from"], r["to"], r["verdict"], r["reasons"]) for r in kt["by_version"]] == [
        ("2.0.25", "2.0.30", "reject", ["layer/zboot"])]
    # the Linux kexec_file_load checks are the same in every release modelled
    assert result.loaders["kexec-file"]["by_version"] == []
    # every reason a range names is a reported finding
    found = {f.rule for f in result.findings}
    for entry in result.loaders.values():
        for r in entry["by_version"]:
            assert set(r["reasons"]) <= found


def test_every_by_version_reason_is_reported(tmp_path):
    """``unreported`` covers the ranges too: a reason only an older release names gets
    a finding."""
    result = checker.check_image(ZBOOT_GZIP, checker.Options())
    ctx_findings = [f for f in result.findings if f.rule != "layer/zboot"]
    from validator.rules.engine import Context

    verdicts = loaders.judge(Context(result), result.findings)
    missing = loaders.unreported(verdicts, ctx_findings)
    assert [(f.rule, sorted(f.loaders)) for f in missing] == [
        ("layer/zboot", ["grub", "kexec-file", "kexec-tools", "qemu", "u-boot"])]


def test_cli_loader_at_version_json_and_text():
    p = kimage("check", "--format", "json", "--loader", "kexec-tools@2.0.29", ZBOOT_ZSTD)
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    jsonschema.validate(doc, SCHEMA)
    (image,) = doc["images"]
    assert list(image["loaders"]) == ["kexec-tools"]
    assert image["loaders"]["kexec-tools"]["version"] == "2.0.29"
    assert "loader/rejects" in {f["rule"] for f in image["findings"]}
    text = kimage("check", ZBOOT_ZSTD).stdout
    assert "kexec-tools accepts at 2.0.32 (2.0.25\u20132.0.30 REJECT: layer/zboot)" in text
    doc = json.loads(kimage("check", "--format", "json", ZBOOT_GZIP).stdout)
    jsonschema.validate(doc, SCHEMA)


@pytest.mark.parametrize("spec", ["kexec-tools@1.0", "kexec-tools@", "nope@2", "grub@x",
                                  "kexec-tools@\u00b2", "u-boot@2025.01;x"])
def test_cli_bad_loader_spec_is_one_line(spec):
    p = kimage("check", "--loader", spec, ZBOOT_GZIP)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_tool_kimage_loaders_at_version(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kimage]\nloaders = ["kexec-tools@2.0.29"]\n')
    p = kimage("check", "--format", "json", ZBOOT_GZIP, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    (image,) = json.loads(p.stdout)["images"]
    kt = image["loaders"]["kexec-tools"]
    assert (kt["verdict"], kt["reasons"], kt["version"]) == ("accept", [], "2.0.29")
    assert "by_version" not in kt and list(image["loaders"]) == ["kexec-tools"]
