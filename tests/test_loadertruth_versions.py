"""loadertruth by version: Debian 12's, 13's and unstable's real kexec-tools (2.0.25,
2.0.29, 2.0.32) under qemu-user against kimage's verdict at that release.

The fast subset of ``make loader-truth``'s versioned comparison: real zboot kernels with
gzip and zstd payloads, the real Image.gz and an Image.zst made from it, and the real
Debian 6.1 arm64 Image with a wrong magic. Each suite's kexec-tools is unpacked by
``loadertruth/install.sh suite SUITE`` (2.0.25: ``install.sh kexec``); a suite that is not
there is skipped with the reason. The real outcomes asserted are what those releases'
sources say (kexec-tools v2.0.25 has no zboot probe; v2.0.28+ loads a gzip zboot through
kexec_load; Debian's builds link zlib only, so no zstd at any release). kimage judges each
as Debian's build of that release (``kexec-tools@2.0.32+debian``), so every verdict is an
agreement, none an explained difference.
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pytest

from loadertruth import fixtures, kexec, variants
from tests.conftest import CORPUS

SUITES = {"": "2.0.25", "trixie": "2.0.29", "unstable": "2.0.32"}
KERNELS = CORPUS / "kernels"
#: image -> {release: what the real Debian build does}
REAL = {
    "zboot-gzip": {"2.0.25": False, "2.0.29": True, "2.0.32": True},
    "zboot-zstd": {"2.0.25": False, "2.0.29": False, "2.0.32": False},
    "Image.gz": {"2.0.25": True, "2.0.29": True, "2.0.32": True},
    "Image.zst": {"2.0.25": False, "2.0.29": False, "2.0.32": False},
    "bad-magic": {"2.0.25": False, "2.0.29": False, "2.0.32": False},
}


def _available(suite: str) -> tuple[bool, str]:
    old = os.environ.get("LOADERTRUTH_SUITE")
    os.environ["LOADERTRUTH_SUITE"] = suite
    try:
        return kexec.available("arm64")
    finally:
        if old is None:
            del os.environ["LOADERTRUTH_SUITE"]
        else:
            os.environ["LOADERTRUTH_SUITE"] = old


@pytest.fixture(scope="module")
def images(tmp_path_factory, real_images) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("versions")
    imgs = {"zboot-gzip": KERNELS / "arm64-4k-le-zboot-gzip/vmlinuz.efi",
            "zboot-zstd": KERNELS / "arm64-4k-le-zboot-zstd/vmlinuz.efi",
            "Image.gz": KERNELS / "arm64-4k-le-efi/Image.gz"}
    zstandard = pytest.importorskip("zstandard")
    zst = out / "Image.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(
        gzip.decompress(imgs["Image.gz"].read_bytes())))
    imgs["Image.zst"] = zst
    base = real_images["debian-6.1.0-50-arm64"]
    v = next(v for v in variants.arm64_variants(base) if v.name == "magic--byte0-xor01")
    variants._copy_sparse(base, out / "bad-magic", v.truncate, v.patch, v.extend)
    imgs["bad-magic"] = out / "bad-magic"
    raw = bytearray(gzip.decompress(imgs["Image.gz"].read_bytes()))  # whole, stub and all
    raw[0x38] ^= 0x01
    imgs["Image-bad-magic"] = out / "Image-bad-magic"
    imgs["Image-bad-magic"].write_bytes(bytes(raw))
    lies = bytearray(imgs["zboot-gzip"].read_bytes())  # a zboot header naming another codec
    lies[0x18:0x38] = b"lz4".ljust(0x20, b"\0")
    imgs["zboot-lies"] = out / "zboot-lies.efi"
    imgs["zboot-lies"].write_bytes(bytes(lies))
    return imgs


@pytest.mark.parametrize("suite", list(SUITES), ids=lambda s: s or "bookworm")
def test_real_kexec_tools_by_version_agrees_with_kimage(suite, images, monkeypatch):
    ok, why = _available(suite)
    if not ok:
        pytest.skip(f"kexec-tools {SUITES[suite]} not runnable: {why}")
    from loadertruth.compare import compare, kimage_verdicts

    monkeypatch.setenv("LOADERTRUTH_SUITE", suite)
    assert fixtures.suite() == suite
    release = SUITES[suite]
    records = []
    for name, path in ((name, images[name]) for name in REAL):
        rec = kexec.run("kexec-tools", path, name, arch="arm64").to_json()
        assert f"{release}-" in rec["loader_version"], rec["loader_version"]
        assert rec["accept"] is REAL[name][release], (name, rec["message"], rec["log_tail"])
        records.append(dict(rec, **{"class": name, "variant": name}))
    verdicts = {name: kimage_verdicts(path.parent, {path.name})[path.name]
                for name, path in ((name, images[name]) for name in REAL)}
    table, disagreements, explained = compare(records, verdicts)
    assert not disagreements, disagreements
    assert not explained, explained  # the zstd refusals are Debian's build's verdict
    assert sum(cell[2] for cell in table.values()) == len(records)
    assert {key[0] for key in table} == {f"kexec-tools@{release}"}


def test_real_debian_12_builds_lack_the_libraries_kimage_says(tmp_path, monkeypatch):
    """Debian 12's ppc64el kexec-tools links no zlib (``readelf -d``: libc only): it
    refuses a gzip'd vmlinux that it loads uncompressed; its arm64 build links zlib but
    uImage_probe takes no IH_COMP_LZMA in any build (mkimage -C gzip loads, -C lzma does
    not). kimage's ``kexec-tools@2.0.25+debian`` gives the same verdicts."""
    import lzma
    import shutil
    import subprocess

    from loadertruth.compare import compare, kimage_verdicts
    from tests.conftest import materialise

    monkeypatch.delenv("LOADERTRUTH_SUITE", raising=False)  # Debian 12's own
    for arch in ("arm64", "ppc64"):
        ok, why = kexec.available(arch)
        if not ok:
            pytest.skip(f"Debian 12's kexec-tools ({arch}) not runnable: {why}")
    if shutil.which("mkimage") is None:
        pytest.skip("mkimage (u-boot-tools) not installed")
    vmlinux = materialise(KERNELS / "ppc64le-reloc/vmlinux.excerpt.json", tmp_path / "vmlinux")
    (tmp_path / "vmlinux.gz").write_bytes(gzip.compress(vmlinux.read_bytes()))
    image = gzip.decompress((KERNELS / "arm64-4k-le-efi/Image.gz").read_bytes())
    for comp, data in (("gzip", gzip.compress(image)),
                       ("lzma", lzma.compress(image, format=lzma.FORMAT_ALONE))):
        (tmp_path / "payload").write_bytes(data)
        subprocess.run(["mkimage", "-A", "arm64", "-O", "linux", "-T", "kernel", "-C", comp,
                        "-a", "0x40080000", "-e", "0x40080000", "-n", "t", "-d",
                        tmp_path / "payload", tmp_path / f"uImage-{comp}"], check=True,
                       capture_output=True, timeout=60)
    real = {"vmlinux": ("ppc64", True), "vmlinux.gz": ("ppc64", False),
            "uImage-gzip": ("arm64", True), "uImage-lzma": ("arm64", False)}
    records = []
    for name, (arch, accept) in real.items():
        rec = kexec.run("kexec-tools", tmp_path / name, name, arch=arch).to_json()
        assert rec["accept"] is accept, (name, rec["message"], rec["log_tail"])
        assert "2.0.25-" in rec["loader_version"]
        records.append(dict(rec, **{"class": name, "variant": name}))
    table, disagreements, explained = compare(records, kimage_verdicts(tmp_path, set(real)))
    assert not disagreements and not explained, (disagreements, explained)
    assert sum(cell[2] for cell in table.values()) == len(records)


def test_trixie_u_boot_and_qemu_agree_with_kimage(images, monkeypatch):
    """Debian 13's U-Boot 2025.01 ``booti`` and QEMU 10.0 ``-kernel`` (qemu-system-arm and
    u-boot-qemu of trixie unpacked by ``install.sh suite trixie``, run with their own
    ld.so): neither takes a zboot (no ARM\\x64 magic at 0x38), QEMU gunzips Image.gz and
    U-Boot refuses it without kernel_comp_addr_r."""
    from loadertruth import qemu, uboot
    from loadertruth.compare import compare, kimage_verdicts

    monkeypatch.setenv("LOADERTRUTH_SUITE", "trixie")
    ok, why = uboot.available("arm64")
    if not ok:
        pytest.skip(f"U-Boot/QEMU of trixie not runnable: {why}")
    real = {"zboot-gzip": (False, False), "Image.gz": (False, True),
            "bad-magic": (False, False)}
    records = []
    for name, (u_ok, q_ok) in real.items():
        for mod, want in ((uboot, u_ok), (qemu, q_ok)):
            rec = mod.run(images[name], name).to_json()
            assert rec["accept"] is want, (name, rec["loader"], rec["message"])
            records.append(dict(rec, **{"class": name, "variant": name}))
    for r in records:  # the suite's loaders ran, not the machine's
        assert ("2025.01" if r["loader"] == "u-boot" else ":10.0.") in r["loader_version"]
    verdicts = {name: kimage_verdicts(images[name].parent, {images[name].name})[
        images[name].name] for name in real}
    table, disagreements, _ = compare(records, verdicts)
    assert not disagreements, disagreements
    assert sum(cell[2] for cell in table.values()) == len(records)


def _run_suite(monkeypatch, suite: str, harness, what: str) -> None:
    """Run ``suite``'s loaders ("": the machine's own, Debian 12's); skip when
    ``harness`` (a loadertruth module) cannot run that suite's ``what`` here."""
    if suite:
        monkeypatch.setenv("LOADERTRUTH_SUITE", suite)
    else:
        monkeypatch.delenv("LOADERTRUTH_SUITE", raising=False)
    ok, why = harness.available("arm64")
    if not ok:
        pytest.skip(f"{what} of {suite or 'bookworm'} not runnable: {why}")


#: The Linux PE magic that zboot headers carry at 0x38 from kernel 6.2 (zboot-header.S;
#: specs/efi_zboot.ksy linux_pe_magic), little-endian.
LINUX_PE_MAGIC = (0x818223CD).to_bytes(4, "little")
QEMU_SUITES = {"": "7.2", "trixie": "10.0", "unstable": "11.1"}


@pytest.fixture(scope="module")
def zboots_6_2(tmp_path_factory) -> dict[str, Path]:
    """The corpus zboots as a 6.2+ kernel writes their header: the Linux PE magic at 0x38;
    and the zstd one also with its payload named "zstd" (as kernels from 6.12.11 name it,
    where 6.1 to 6.12.10 write "zstd22"): COMP_TYPE is the 32 bytes at 0x18."""
    out = tmp_path_factory.mktemp("zboot62")
    made = {}
    for name, src, comp in (("gzip", "gzip", None), ("zstd22", "zstd", None),
                            ("zstd", "zstd", b"zstd")):
        data = bytearray((KERNELS / f"arm64-4k-le-zboot-{src}/vmlinuz.efi").read_bytes())
        assert data[0x38:0x3C] != LINUX_PE_MAGIC  # a 6.1 zboot: no magic
        data[0x38:0x3C] = LINUX_PE_MAGIC
        if comp is not None:
            data[0x18:0x38] = comp.ljust(0x20, b"\0")
        made[name] = out / f"zboot-{name}.efi"
        made[name].write_bytes(bytes(data))
    return made


@pytest.mark.parametrize("suite", list(QEMU_SUITES), ids=lambda s: s or "bookworm")
def test_qemu_by_release_on_zboots_of_6_2_kernels(suite, zboots_6_2, monkeypatch):
    """QEMU's -kernel on a zboot with the Linux PE magic (kernels 6.2 on): 7.2 has no zboot
    code, 10.0 unpacks a gzip payload, 11.1 also one named exactly "zstd" (Debian's links
    libzstd), no release one named "zstd22". The real run of each release is the oracle;
    kimage's qemu@RELEASE verdict must agree."""
    from loadertruth import qemu
    from validator import checker

    _run_suite(monkeypatch, suite, qemu, "QEMU")
    release = QEMU_SUITES[suite]
    outcomes = {}
    for name, path in zboots_6_2.items():
        rec = qemu.run(path, name).to_json()
        assert re.search(rf":{re.escape(release)}[.+]", rec["loader_version"]), rec[
            "loader_version"]  # the suite's QEMU ran, e.g. "1:10.0.13+ds-..."
        result = checker.check_image(path, checker.Options(loaders={f"qemu@{release}"}))
        kimage = result.loaders["qemu"]["verdict"] == "accept"
        assert rec["accept"] is kimage, (release, name, rec["message"], result.loaders)
        outcomes[name] = rec["accept"]
    # and what the releases' sources say (hw/core/loader.c unpack_efi_zboot_image)
    assert outcomes == {"gzip": release != "7.2", "zstd22": False,
                        "zstd": release == "11.1"}, outcomes


EFI_SUITES = {"": "2022.11", "trixie": "2025.02", "unstable": "2026.08"}


@pytest.mark.parametrize("suite", list(EFI_SUITES), ids=lambda s: s or "bookworm")
def test_edk2_by_release_agrees_with_kimage(suite, images, monkeypatch):
    """Debian's EDK2 (qemu-efi-aarch64) of each suite, with that suite's QEMU: a gzip
    zboot, one whose header names lz4 (the stub reads no header field) and the corpus
    Image with a wrong ARM\\x64 magic are started (its EFI stub says so), the Image.gz
    (no "MZ") is refused by LoadImage. The real boot of each release is the oracle;
    kimage's efi@RELEASE verdict must agree (make loader-truth SUITE_LOADERS=...,efi
    runs all 353 variants)."""
    from loadertruth import efi
    from loadertruth.compare import compare, kimage_verdicts

    _run_suite(monkeypatch, suite, efi, "EDK2")
    release = EFI_SUITES[suite]
    real = {"zboot-gzip": True, "zboot-lies": True, "Image-bad-magic": True, "Image.gz": False}
    records = []
    for name, want in real.items():
        rec = efi.run(images[name], name).to_json()
        assert f" {release}" in rec["loader_version"], rec["loader_version"]
        assert rec["accept"] is want, (name, rec["message"], rec["log_tail"])
        assert rec["observed"].get("stub_ran", False) is want, (name, rec["log_tail"])
        records.append(dict(rec, **{"class": name, "variant": name}))
    verdicts = {name: kimage_verdicts(images[name].parent, {images[name].name})[
        images[name].name] for name in real}
    table, disagreements, explained = compare(records, verdicts)
    assert not disagreements and not explained, (disagreements, explained)
    assert {key[0] for key in table} == {f"efi@{release}"}
    assert sum(cell[2] for cell in table.values()) == len(records)
