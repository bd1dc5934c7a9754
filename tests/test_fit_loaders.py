"""The loaders themselves on the FIT images of corpus/fit/make.sh: U-Boot (Debian 13's
u-boot-qemu 2025.01, qemu_arm64, under qemu-system-aarch64, by loadertruth.uboot) with
``bootm`` and ``booti``, and kexec-tools 2.0.32 (Debian unstable, under qemu-user, by
loadertruth.kexec), against kimage's findings and verdicts.

- ``bootm ADDR#conf-1``: starts every FIT here (hashes verified: "Verifying Hash
  Integrity ... OK"), and refuses one whose data no longer matches its hashes ("Bad hash
  value"), which kimage reports as ``fit/bad-hash``. The configuration is named because
  this U-Boot is built with FIT_BEST_MATCH: a plain ``bootm ADDR`` picks the configuration
  whose device tree matches the board's and, with none, says "Could not find
  configuration node" (seen here).
- ``booti ADDR``: what the ``u-boot`` model stands for; refuses a FIT (no ARM\\x64 magic).
- ``kexec -l``: no probe takes a FIT.

Skipped with the reason where the suites are not unpacked (loadertruth/install.sh suite
trixie|unstable) or make.sh has not been run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loadertruth import kexec, uboot
from validator.checker import Options, check_image
from validator.pipeline import analyse

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "fit" / "out"
TINY = ("tiny-plain.itb", "tiny-gzip.itb", "tiny-hashes.itb", "tiny-external.itb")
BOOTM = f"bootm {uboot.LOAD_ADDR:#x}#conf-1 - ${{fdtcontroladdr}}"
BOOTM_REJECT = ["Bad hash value", "Bad FIT kernel image format", "Could not find",
                "Wrong Image Format", "can't get kernel image"]

pytestmark = pytest.mark.skipif(not all((OUT / n).is_file() for n in TINY),
                                reason="no FIT images in build/fit/out: run corpus/fit/make.sh")


def run_uboot(monkeypatch, image: Path, command: str):
    monkeypatch.setenv("LOADERTRUTH_SUITE", "trixie")
    ok, why = uboot.available("arm64")
    if not ok:
        pytest.skip(why)
    monkeypatch.setattr(uboot, "COMMAND", command)
    monkeypatch.setattr(uboot, "REJECT", uboot.REJECT + BOOTM_REJECT)
    seen = uboot.run(image, image.name)
    assert seen.accept is not None, (seen.message, seen.log_tail)
    return seen


@pytest.mark.parametrize("name", TINY)
def test_bootm_starts_each_fit(monkeypatch, name):
    seen = run_uboot(monkeypatch, OUT / name, BOOTM)
    assert seen.accept, (seen.message, seen.log_tail)
    result = check_image(OUT / name, Options())
    assert not [f for f in result.findings if f.severity == "error"]
    hashes = result.layers[0].details["kernel"]["hashes"]
    assert hashes and all(h["ok"] for h in hashes)
    assert any("Verifying Hash Integrity" in line for line in seen.log_tail)


def test_bootm_starts_a_signed_fit_without_a_required_key(monkeypatch):
    """The board's control FDT holds no key marked required: bootm reports the signature
    and boots; kimage reports the signature node and no finding for it."""
    path = OUT / "tiny-signed.itb"
    if not path.is_file():
        pytest.skip("no openssl when make.sh ran")
    seen = run_uboot(monkeypatch, path, BOOTM)
    assert seen.accept, (seen.message, seen.log_tail)
    result = check_image(path, Options())
    assert result.layers[0].details["configuration_signatures"][0]["algo"] == "sha256,rsa2048"
    assert not [f for f in result.findings if f.severity != "info"]


def test_bootm_refuses_what_fit_bad_hash_reports(monkeypatch, tmp_path):
    data = bytearray((OUT / "tiny-plain.itb").read_bytes())
    k = analyse(OUT / "tiny-plain.itb").layers[0].details["kernel"]
    data[k["data_offset"] + k["data_size"] - 1] ^= 1  # the Image's last byte
    bad = tmp_path / "bad-hash.itb"
    bad.write_bytes(bytes(data))
    seen = run_uboot(monkeypatch, bad, BOOTM)
    assert seen.accept is False and "Bad hash value" in seen.message, seen.log_tail
    assert "fit/bad-hash" in {f.rule for f in check_image(bad, Options()).findings}


def test_booti_refuses_a_fit_as_the_model_says(monkeypatch):
    seen = run_uboot(monkeypatch, OUT / "tiny-plain.itb",
                     f"booti {uboot.LOAD_ADDR:#x} - ${{fdtcontroladdr}}")
    assert seen.accept is False and "magic" in seen.message, seen.message
    verdict = check_image(OUT / "tiny-plain.itb", Options(loaders={"u-boot"})).loaders
    assert verdict["u-boot"]["verdict"] == "reject"
    assert verdict["u-boot"]["reasons"] == ["layer/fit"]


def test_kexec_tools_refuses_a_fit_as_the_model_says(monkeypatch):
    monkeypatch.setenv("LOADERTRUTH_SUITE", "unstable")
    ok, why = kexec.available("arm64")
    if not ok:
        pytest.skip(why)
    seen = kexec.run("kexec-tools", OUT / "tiny-plain.itb", "tiny-plain.itb", arch="arm64")
    assert seen.accept is False, seen.message
    assert "Cannot determine the file type" in seen.message, seen.log_tail
    verdict = check_image(OUT / "tiny-plain.itb",
                          Options(loaders={"kexec-tools@2.0.32"})).loaders["kexec-tools"]
    assert verdict["verdict"] == "reject" and verdict["reasons"] == ["layer/fit"]


def test_bootm_without_a_configuration_name_on_this_board(monkeypatch):
    """Debian's qemu_arm64 U-Boot is built with FIT_BEST_MATCH: ``bootm ADDR`` picks the
    configuration whose device tree matches the board's compatible; a FIT whose
    configurations name no device tree (mkimage -f auto without -b) gets "Could not find
    configuration node". kimage reports the configuration's device trees (none here)."""
    seen = run_uboot(monkeypatch, OUT / "tiny-plain.itb",
                     f"bootm {uboot.LOAD_ADDR:#x} - ${{fdtcontroladdr}}")
    assert seen.accept is False and "Could not find configuration node" in seen.message
    details = analyse(OUT / "tiny-plain.itb").layers[0].details
    assert details["configuration"] == {"fdt": [], "ramdisk": []}
