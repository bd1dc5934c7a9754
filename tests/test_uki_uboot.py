"""U-Boot (Debian 13's u-boot-qemu 2025.01, qemu_arm64, by loadertruth.uboot) on the UKIs
of corpus/uki/make.sh: ``booti`` (what the ``u-boot`` model stands for) refuses a UKI
("Bad Linux ARM64 Image magic!"), as kimage's verdict says; ``bootefi ADDR:SIZE`` starts
systemd-stub, which starts the kernel in .linux ("EFI stub: Booting Linux Kernel" is
the kernel's own stub). Skipped with the reason where the suite is not unpacked
(loadertruth/install.sh suite trixie) or make.sh has not been run."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadertruth import uboot
from validator.checker import Options, check_image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "uki" / "out"
UKIS = ("debian-image.efi", "zboot-gzip.efi")

pytestmark = pytest.mark.skipif(not all((OUT / n).is_file() for n in UKIS),
                                reason="no UKIs in build/uki/out: run corpus/uki/make.sh")


def run(monkeypatch, path: Path, command: str, accept: str = uboot.ACCEPT):
    monkeypatch.setenv("LOADERTRUTH_SUITE", "trixie")
    ok, why = uboot.available("arm64")
    if not ok:
        pytest.skip(why)
    monkeypatch.setattr(uboot, "COMMAND", command)
    monkeypatch.setattr(uboot, "ACCEPT", accept)
    monkeypatch.setattr(uboot, "REJECT", uboot.REJECT + ["Bad kernel image",
                                                         "No UEFI binary"])
    seen = uboot.run(path, path.name)
    assert seen.accept is not None, (seen.message, seen.log_tail)
    return seen


@pytest.mark.parametrize("name", UKIS)
def test_booti_refuses_a_uki_as_the_model_says(monkeypatch, name):
    seen = run(monkeypatch, OUT / name, f"booti {uboot.LOAD_ADDR:#x} - ${{fdtcontroladdr}}")
    assert seen.accept is False and "Bad Linux ARM64 Image magic!" in seen.message
    verdict = check_image(OUT / name, Options(loaders={"u-boot"})).loaders["u-boot"]
    assert verdict["verdict"] == "reject" and "layer/uki" in verdict["reasons"]


@pytest.mark.parametrize("name", UKIS)
def test_bootefi_starts_systemd_stub_and_the_kernel(monkeypatch, name):
    size = (OUT / name).stat().st_size
    seen = run(monkeypatch, OUT / name,
               f"bootefi {uboot.LOAD_ADDR:#x}:{size:x} ${{fdtcontroladdr}}",
               accept="EFI stub: Booting Linux Kernel")
    assert seen.accept is True, (seen.message, seen.log_tail)
