"""Loader lines never contradict the findings, and a cut-short file names its cause.

Every reason a loader line names is a reported finding; no loader accepts a file in which
no kernel was found; a copy of an Image cut short is one root-cause finding
(``arm64/file-truncated``) with its consequences folded under it.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, ROOT

ARM64_REAL = "debian-6.1.0-50-arm64"
PPC64_REAL = "debian-6.1.0-50-powerpc64le"


def check_json(*paths) -> list[dict]:
    p = subprocess.run([sys.executable, "-m", "validator", "check", "--format", "json",
                        *map(str, paths)], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert p.stdout, p.stderr
    return json.loads(p.stdout)["images"]


def reported(image: dict) -> set[str]:
    return {f["rule"] for f in image["findings"]} | {
        c["rule"] for f in image["findings"] for c in f.get("consequences", [])}


def assert_reasons_reported(image: dict) -> None:
    named = {r for v in image["loaders"].values() for r in v["reasons"]}
    assert named <= {f["rule"] for f in image["findings"]}, (image["path"], named)


def cut(src, dst, n: int):
    with open(src, "rb") as f, open(dst, "wb") as g:
        g.write(f.read(n))
    return dst


def test_no_loader_accepts_a_file_without_a_kernel(tmp_path):
    noise = tmp_path / "noise"
    noise.write_bytes(bytes(range(256)) * 16)
    bad_elf = tmp_path / "bad.elf"
    bad_elf.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(120))  # no program headers
    images = [noise, bad_elf]
    if shutil.which("dpkg-deb"):
        pkg = tmp_path / "pkg"
        (pkg / "DEBIAN").mkdir(parents=True)
        (pkg / "usr/share/doc/x").mkdir(parents=True)
        (pkg / "usr/share/doc/x/README").write_text("no kernel here\n")
        (pkg / "DEBIAN/control").write_text(
            "Package: x\nVersion: 1\nArchitecture: all\nMaintainer: a <a@b.c>\n"
            "Description: x\n")
        subprocess.run(["dpkg-deb", "-b", str(pkg), str(tmp_path / "x.deb")], check=True,
                       capture_output=True)
        images.append(tmp_path / "x.deb")
    for image in check_json(*images):
        assert image["verdict"] == "fail"
        for name, v in image["loaders"].items():
            assert v["verdict"] == "reject", (image["path"], name, v)
            assert v["reasons"], (image["path"], name)
        assert_reasons_reported(image)


def test_a_package_is_judged_as_the_kernel_it_installs():
    deb = next((CORPUS / "kernels/arm64-4k-le-efi").glob("linux-image-*.deb"))
    image, = check_json(deb)
    assert image["format"] == "arm64-image"
    # QEMU's -kernel boots the Image the package installs (loader truth: a raw Image)
    assert image["loaders"]["qemu"]["verdict"] == "accept", image["loaders"]["qemu"]
    assert_reasons_reported(image)


def test_every_reason_is_a_finding_across_the_corpus():
    paths = sorted(p for p in (CORPUS / "synthetic").rglob("*") if p.is_file())
    paths += sorted(p for p in (CORPUS / "kernels").rglob("*")
                    if p.is_file() and not p.name.endswith((".json", ".py", ".md")))
    for image in check_json(*paths):
        assert_reasons_reported(image)


def test_an_unrecognised_ppc64_head_in_a_good_elf(real_images, tmp_path):
    """kexec-tools' ELF loader loads it (loader truth: head-zeroed variants accepted);
    the arm64 boot loaders do not apply to a ppc64 ELF."""
    src = real_images[PPC64_REAL]
    dst = tmp_path / "vmlinux"
    shutil.copyfile(src, dst)
    with open(src, "rb") as f:
        ehdr = f.read(64)
    phoff, = struct.unpack_from("<Q", ehdr, 0x20)
    with open(src, "rb") as f:
        f.seek(phoff)
        p_offset, = struct.unpack_from("<Q", f.read(56), 8)
    with open(dst, "r+b") as f:
        f.seek(p_offset)
        f.write(bytes(256))
    image, = check_json(dst)
    assert image["loaders"]["kexec-tools"]["verdict"] == "accept"
    for name in ("u-boot", "grub", "efi", "qemu"):
        assert image["loaders"][name]["verdict"] == "n/a", name
    assert_reasons_reported(image)


@pytest.mark.parametrize("size", [64, 100, 4096, 1 << 20])
def test_a_cut_short_image_names_the_cause(real_images, tmp_path, size):
    src = real_images[ARM64_REAL]
    with open(src, "rb") as f:
        image_size, = struct.unpack_from("<Q", f.read(64), 0x10)  # booting.rst: LE u64
    image, = check_json(cut(src, tmp_path / f"Image-{size}", size))
    errors = [f for f in image["findings"] if f["severity"] == "error"]
    assert [f["rule"] for f in errors] == ["arm64/file-truncated"], errors
    root = errors[0]
    whole_mib = f"{image_size / (1 << 20):.1f} MiB"
    assert whole_mib in root["message"] and "cut short" in root["message"]
    folded = {c["rule"] for c in root["consequences"]}
    assert "arm64/entry-outside-image" in folded
    assert folded & {"arm64/pe-sections-outside-file", "arm64/pe-offset-invalid"}
    # EDK2 refuses every truncated variant (loader truth); the reason is the root cause
    for name in ("efi", "grub"):
        assert image["loaders"][name] == {**image["loaders"][name], "verdict": "reject",
                                          "reasons": ["arm64/file-truncated"]}
    assert_reasons_reported(image)


def test_the_whole_image_has_no_truncation(real_images):
    image, = check_json(real_images[ARM64_REAL])
    assert "arm64/file-truncated" not in reported(image)
    assert image["verdict"] == "pass"
