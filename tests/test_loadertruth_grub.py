"""Debian's signed GRUB (grub-efi-arm64-signed) of each suite, run under that suite's EDK2
and QEMU (loadertruth/grub.py), against kimage's ``grub@RELEASE+debian``.

The fast subset of ``make loader-truth LOADERS=...,grub`` (Debian 12's here; trixie's
2.12 and unstable's 2.14 with the tests marked loader_truth): a gzip zboot and the corpus
Image with a wrong ARM\\x64 magic are started (their EFI stubs print), an Image.zst is
refused ("plain image kernel not supported": GRUB undoes gzip, xz and lzo, not zstd).
Debian 12's 2.06-13 starts the first two because Debian carries upstream's removal of
the magic check (debian/patches/arm64_remove_magic_number_check.patch); an upstream
2.06 would refuse both, which kimage's ``grub@2.06`` (the upstream build) says.
"""

from __future__ import annotations

import gzip
import re

import pytest

from tests.conftest import CORPUS
from tests.test_loadertruth_versions import _run_suite

KERNELS = CORPUS / "kernels"
#: suite -> the GRUB release Debian ships there ("": the machine's own, Debian 12)
GRUB_SUITES = {"": "2.06", "trixie": "2.12", "unstable": "2.14"}
#: image -> does every Debian GRUB start it (the real runs; the same in each suite)
REAL = {"zboot-gzip": True, "Image-bad-magic": True, "Image.zst": False}


@pytest.fixture(scope="module")
def grub_images(tmp_path_factory) -> dict:
    zstandard = pytest.importorskip("zstandard")
    out = tmp_path_factory.mktemp("grub")
    raw = bytearray(gzip.decompress((KERNELS / "arm64-4k-le-efi/Image.gz").read_bytes()))
    (out / "Image.zst").write_bytes(zstandard.ZstdCompressor().compress(bytes(raw)))
    raw[0x38] ^= 0x01  # the whole Image, its stub and all, with a wrong magic
    (out / "Image-bad-magic").write_bytes(bytes(raw))
    return {"zboot-gzip": KERNELS / "arm64-4k-le-zboot-gzip/vmlinuz.efi",
            "Image-bad-magic": out / "Image-bad-magic", "Image.zst": out / "Image.zst"}


@pytest.mark.parametrize("suite", [
    "", pytest.param("trixie", marks=pytest.mark.loader_truth),
    pytest.param("unstable", marks=pytest.mark.loader_truth)], ids=lambda s: s or "bookworm")
def test_debian_grub_by_release_agrees_with_kimage(suite, grub_images, monkeypatch):
    from loadertruth import grub
    from loadertruth.compare import compare, kimage_verdicts

    _run_suite(monkeypatch, suite, grub, "GRUB")
    release = GRUB_SUITES[suite]
    records = []
    for name, want in REAL.items():
        rec = grub.run(grub_images[name], name).to_json()
        assert re.search(rf"grub-efi-arm64-signed 1\+{re.escape(release)}\+",
                         rec["loader_version"]), rec["loader_version"]
        assert rec["accept"] is want, (name, rec["message"], rec["log_tail"])
        assert rec["observed"].get("stub_ran", False) is want, (name, rec["log_tail"])
        records.append(dict(rec, **{"class": name, "variant": name}))
    if not REAL["Image.zst"]:
        assert "plain image kernel not supported" in records[-1]["message"]
    verdicts = {name: kimage_verdicts(grub_images[name].parent, {grub_images[name].name})[
        grub_images[name].name] for name in REAL}
    table, disagreements, explained = compare(records, verdicts)
    assert not disagreements and not explained, (disagreements, explained)
    assert {key[0] for key in table} == {f"grub@{release}"}
    assert sum(cell[2] for cell in table.values()) == len(records)


#: Debian 12's GRUB refusing an Image without "MZ" (a real console, as efi.clean gives it)
REFUSED = """BdsDxe: starting Boot0001 "UEFI Misc Device" from VenHw(837DCA9E-E874-4D82)
Welcome to GRUB!
error: no such device: /.disk/info.
error: no such device: /.disk/mini-info.
KLT-GRUB linux
error: plain image kernel not supported - rebuild with CONFIG_(U)EFI_STUB
enabled.
KLT-GRUB refused
GNU GRUB  version 2.06-13+deb12u2
"""
STARTED = """Welcome to GRUB!
error: no such device: /.disk/info.
KLT-GRUB linux
KLT-GRUB loaded
EFI stub: Booting Linux Kernel...
EFI stub: Using DTB from configuration table
"""


def test_grub_console_is_read_from_its_first_marker():
    from loadertruth import grub

    accept, message, observed = grub.classify(REFUSED.splitlines())
    assert accept is False
    assert message == "error: plain image kernel not supported - rebuild with CONFIG_(U)EFI_STUB"
    # the built-in config's searches before the marker are not GRUB's verdict
    assert observed == {"errors": [message.removeprefix("error: ")]}
    accept, message, observed = grub.classify(STARTED.splitlines())
    assert (accept, message, observed) == (True, "EFI stub: Booting Linux Kernel...",
                                           {"stub_ran": True})
    assert grub.classify(["Welcome to GRUB!", "KLT-GRUB linux"]) == (None, "", {})
    assert grub.classify([]) == (None, "", {})


def test_grub_boot_that_returns_before_a_stub_is_a_refusal():
    from loadertruth import grub

    lines = ["KLT-GRUB linux", "KLT-GRUB loaded", "error: cannot load image.",
             "KLT-GRUB boot-returned"]
    assert grub.classify(lines)[:2] == (False, "error: cannot load image.")
    # a stub that ran and gave up (systemd-stub: "Bad kernel image") was started
    lines[2:2] = ["EFI stub: Booting Linux Kernel..."]
    assert grub.classify(lines)[0] is True


def test_grub_that_crashes_in_linux_refuses_the_image():
    """Debian 12's GRUB faults in ``linux`` on an Image whose pe_offset points past the
    file (EDK2's exception handler then prints the fault again and again)."""
    from loadertruth import grub

    lines = ["KLT-GRUB linux", "Synchronous Exception at 0x00000000BBEEBA44",
             "Synchronous Exception at 0x00000000BBEEBA44"]
    assert grub.classify(lines) == (
        False, "GRUB crashed in linux: Synchronous Exception at 0x00000000BBEEBA44",
        {"crashed": True})
