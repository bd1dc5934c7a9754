"""The ``convention`` and ``zboot_codec`` facts (validator/conventions.py) on real kernels:
Debian's signed arm64 vmlinuz (corpus/real), the same Image gzipped as Ubuntu ships it,
the corpus zboot images (gzip, zstd), a 16 KiB-page Image and an Android boot image v4;
and the QEMU rows of the zboot table against Debian 13's and unstable's qemu-system-aarch64
(run when loadertruth/install.sh suite has unpacked them)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import ROOT
from tests.wrapper_corpus import kernel_file
from validator.formats.android.samples import android_bytes
from validator.pipeline import analyse
from validator.report_schema import SCHEMA

ZSTD = ROOT / "corpus/kernels/arm64-4k-le-zboot-zstd/vmlinuz.efi"
GZIP = ROOT / "corpus/kernels/arm64-4k-le-zboot-gzip/vmlinuz.efi"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_debian_signed_image_and_ubuntu_gzip_of_it(real_images, tmp_path):
    debian = real_images["debian-6.1.0-50-arm64"]  # linux-signed-arm64 (PROVENANCE.md)
    assert analyse(debian).facts["convention"] == "debian-signed-image"
    ubuntu = tmp_path / "vmlinuz"
    ubuntu.write_bytes(gzip.compress(debian.read_bytes(), compresslevel=1, mtime=0))
    assert analyse(ubuntu).facts["convention"] == "ubuntu-gzip-signed-image"
    # the corpus Image.gz is built without a signature: no convention
    plain = analyse(ROOT / "corpus/kernels/arm64-4k-le-efi/Image.gz")
    assert plain.facts["convention"] is None and "zboot_codec" not in plain.facts


def test_no_convention_fact_for_other_architectures(real_images):
    facts = analyse(real_images["debian-6.1.0-50-powerpc64le"]).facts
    assert "convention" not in facts and "zboot_codec" not in facts


def test_zboot_zstd_is_fedoras_and_its_consumers():
    facts = analyse(ZSTD).facts
    assert facts["convention"] == "fedora-zboot-zstd"
    z = facts["zboot_codec"]
    assert (z["codec"], z["name"]) == ("zstd", "zstd22")  # the 6.1 kernel's header name
    assert z["consumers"]["kexec-tools"]["since"] == "2.0.31"
    assert z["consumers"]["kexec-tools"]["supported"] is None  # needs libzstd linked
    assert z["consumers"]["qemu"]["supported"] is False
    assert z["consumers"]["efi"]["supported"] is True


def test_zboot_gzip_consumers(tmp_path):
    facts = analyse(GZIP).facts
    assert facts["convention"] is None
    z = facts["zboot_codec"]
    assert z["codec"] == "gzip"
    # the 6.1 kernel's zboot has no Linux PE magic at 0x38: QEMU does not unpack it
    assert z["consumers"]["qemu"]["supported"] is False
    assert "0x38" in z["consumers"]["qemu"]["why"]
    assert z["consumers"]["kexec-tools"]["since"] == "2.0.28"
    with_magic = analyse(_with_linux_magic(GZIP, tmp_path / "gzip.efi")).facts["zboot_codec"]
    assert (with_magic["consumers"]["qemu"]["supported"],
            with_magic["consumers"]["qemu"]["since"]) == (True, "8.0.0")


def test_16k_page_image(tmp_path):
    """A 16 KiB-page Image is Raspberry Pi's when its release says so (bcm2712_defconfig's
    -v8-16k, Raspberry Pi OS's -rpi-2712); the page size alone (the corpus kernel, an
    Asahi kernel) names no convention."""
    path = kernel_file("arm64-16k-le-noefi", "Image", tmp_path)
    facts = analyse(path).facts
    assert (facts["page_size"], facts["kernel_version"], facts["convention"]) == (
        16384, "6.1.176", None)
    data = path.read_bytes()
    at = data.index(b"Linux version 6.1.176 (")
    for release, convention in (("6.6.31-v8-16k+", "raspberry-pi-16k-image"),
                                ("6.12.47+rpt-rpi-2712", "raspberry-pi-16k-image"),
                                ("6.11.3-400.asahi.fc41.aarch64+16k", None)):
        banner = f"Linux version {release} (".encode()
        patched = tmp_path / f"Image-{release}"
        patched.write_bytes(data[:at] + banner + data[at + len(banner):])
        facts = analyse(patched).facts
        assert (facts["kernel_version"], facts["convention"]) == (release, convention)


@pytest.mark.parametrize("version, expect", [(4, "android-gki-boot-v4"), (3, None),
                                             (2, None)])
def test_android_boot_v4_is_gki(version, expect, tmp_path):
    kernel = gzip.decompress((ROOT / "corpus/kernels/arm64-4k-le-efi/Image.gz").read_bytes())
    path = tmp_path / "boot.img"
    path.write_bytes(android_bytes(kernel, version=version))
    assert analyse(path).facts["convention"] == expect


def test_json_and_text_show_both_facts():
    p = cli("check", "--format", "json", str(ZSTD))
    doc = json.loads(p.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["images"][0]["facts"]["convention"] == "fedora-zboot-zstd"
    text = cli("check", str(ZSTD)).stdout
    assert "fedora-zboot-zstd convention" in text
    assert 'zboot    zstd ("zstd22"): kexec-tools depends from 2.0.31, qemu no' in text
    inspect = cli("inspect", str(ZSTD)).stdout
    assert "convention      fedora-zboot-zstd (Fedora: EFI zboot with a zstd payload)" in inspect
    with pytest.raises(jsonschema.ValidationError):
        bad = json.loads(p.stdout)
        bad["images"][0]["facts"]["convention"] = "gentoo"
        jsonschema.validate(bad, SCHEMA)


# -- QEMU's -kernel on zboot images, run -------------------------------------------------

LOADERTRUTH = ROOT / "build/loadertruth"


def _qemu(suite: str, image: Path) -> str:
    """"refuse: <first line>" when the suite's QEMU stops at loading, "started" when it
    entered the loaded kernel: loadertruth.qemu's run (the suite's own qemu-system-aarch64
    with its ld.so, the verdict at the first instruction through the gdbstub, as
    tests/test_loadertruth_versions.py runs it; no fixed wait)."""
    from loadertruth import qemu

    old = os.environ.get("LOADERTRUTH_SUITE")
    os.environ["LOADERTRUTH_SUITE"] = suite
    try:
        ok, why = qemu.available("arm64")
        if not ok:
            pytest.skip(f"{suite}'s qemu-system-aarch64 not runnable: {why}")
        seen = qemu.run(image, image.name)
    finally:
        if old is None:
            del os.environ["LOADERTRUTH_SUITE"]
        else:
            os.environ["LOADERTRUTH_SUITE"] = old
    assert seen.accept is not None, (seen.message, seen.log_tail)
    return "started" if seen.accept else "refuse: " + seen.log_tail[0]  # QEMU's first line


def _with_linux_magic(src: Path, out: Path, name: bytes | None = None) -> Path:
    """The 6.1 zboot with the Linux PE magic at 0x38 that kernels from 6.2 write (QEMU
    unpacks only a zboot that has it) and, given ``name``, another method name."""
    data = bytearray(src.read_bytes())
    data[0x38:0x3C] = b"\xcd\x23\x82\x81"
    if name is not None:
        data[0x18:0x18 + 8] = name.ljust(8, b"\0")
    out.write_bytes(bytes(data))
    return out


def test_qemu_zboot_rows_against_qemu_runs(tmp_path):
    gz = _with_linux_magic(GZIP, tmp_path / "gzip.efi")
    zstd22 = _with_linux_magic(ZSTD, tmp_path / "zstd22.efi")
    zstd = _with_linux_magic(ZSTD, tmp_path / "zstd.efi", b"zstd")
    assert _qemu("trixie", gz) == "started"  # 10.0 unpacks gzip
    assert _qemu("trixie", zstd).startswith("refuse: unable to handle EFI zboot image")
    assert _qemu("unstable", zstd22).startswith(
        'refuse: unable to handle EFI zboot image with "zstd22"')
    assert _qemu("unstable", zstd) == "started"  # 11.1 takes a payload named "zstd"
    assert analyse(zstd).facts["zboot_codec"]["consumers"]["qemu"]["supported"] is None
    assert analyse(zstd22).facts["zboot_codec"]["consumers"]["qemu"]["supported"] is False
