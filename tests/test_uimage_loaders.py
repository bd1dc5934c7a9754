"""A uImage (mkimage, U-Boot's own tool, around a real Image) is a kernel for U-Boot's
bootm, kexec-tools and QEMU's -kernel, and not for the loaders that read the file's first
bytes as the Image's own header: U-Boot's booti (arch/arm/lib/image.c booti_setup, "Bad
Linux ARM64 Image magic!"), the kernel's kexec_file_load (arch/arm64/kernel/kexec_image.c
image_probe: ARM\\x64 at 0x38), GRUB (no "MZ" at 0) and UEFI firmware (no PE). The
expected verdicts come from those sources; booti's is also run (Debian 13's U-Boot under
qemu-system-aarch64) where it is unpacked here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.wrapper_corpus import kernel_file

pytestmark = pytest.mark.skipif(shutil.which("mkimage") is None,
                                reason="u-boot-tools (mkimage) not installed")

REFUSE = {"kexec-file", "u-boot", "grub", "efi"}


@pytest.fixture(scope="module")
def uimage(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uimage")
    image = kernel_file("arm64-4k-le-efi", "Image", tmp)
    out = tmp / "uImage"
    subprocess.run(["mkimage", "-A", "arm64", "-O", "linux", "-T", "kernel", "-C", "none",
                    "-a", "0x40200000", "-e", "0x40200000", "-n", "Linux", "-d", str(image),
                    str(out)], check=True, capture_output=True)
    return out


def check_json(path):
    done = subprocess.run([sys.executable, "-m", "validator", "check", "--format", "json",
                           str(path)], capture_output=True, text=True)
    return json.loads(done.stdout)["images"][0]


def test_uimage_is_refused_by_the_loaders_that_want_the_image_header(uimage):
    doc = check_json(uimage)
    assert "layer/uimage" in {f["rule"] for f in doc["findings"]}
    loaders = doc["loaders"]
    for name in REFUSE:
        assert loaders[name]["verdict"] == "reject", name
        assert "layer/uimage" in loaders[name]["reasons"], name
    # kexec-tools' uImage_arm64_probe takes it (Debian 12's 2.0.25 loads the corpus
    # uImage.gz in loadertruth); the uImage layer is no reason for it or QEMU to refuse
    assert loaders["kexec-tools"]["verdict"] == "accept"
    assert "layer/uimage" not in loaders["qemu"]["reasons"]


def test_real_booti_refuses_a_uimage(uimage, monkeypatch):
    from loadertruth import uboot

    monkeypatch.setenv("LOADERTRUTH_SUITE", "trixie")
    ok, why = uboot.available("arm64")
    if not ok:
        pytest.skip(f"U-Boot/QEMU of trixie not runnable: {why}")
    rec = uboot.run(uimage, "uImage").to_json()
    assert rec["accept"] is False, rec["message"]
    assert "magic" in rec["message"].lower(), rec["message"]
