"""loadertruth by version: Debian 12's, 13's and unstable's real kexec-tools (2.0.25,
2.0.29, 2.0.32) under qemu-user against kimage's verdict at that release.

The fast subset of ``make loader-truth``'s versioned comparison: real zboot kernels with
gzip and zstd payloads, the real Image.gz and an Image.zst made from it, and the real
Debian 6.1 arm64 Image with a wrong magic. Each suite's kexec-tools is unpacked by
``loadertruth/install.sh suite SUITE`` (2.0.25: ``install.sh kexec``); a suite that is not
there is skipped with the reason. The real outcomes asserted are what those releases'
sources say (kexec-tools v2.0.25 has no zboot probe; v2.0.28+ loads a gzip zboot through
kexec_load; Debian's builds link zlib only, so no zstd at any release).
"""

from __future__ import annotations

import gzip
import os
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
    for name, path in images.items():
        rec = kexec.run("kexec-tools", path, name, arch="arm64").to_json()
        assert f"{release}-" in rec["loader_version"], rec["loader_version"]
        assert rec["accept"] is REAL[name][release], (name, rec["message"], rec["log_tail"])
        records.append(dict(rec, **{"class": name, "variant": name}))
    verdicts = {name: kimage_verdicts(path.parent, {path.name})[path.name]
                for name, path in images.items()}
    table, disagreements, explained = compare(records, verdicts)
    assert not disagreements, disagreements
    assert sum(cell[2] for cell in table.values()) == len(records)
    assert {key[0] for key in table} == {f"kexec-tools@{release}"}


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
