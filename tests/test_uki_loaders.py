"""kexec-tools itself on the UKIs of corpus/uki/make.sh: Debian's arm64 builds of 2.0.29
(trixie, no UKI probe) and 2.0.32 (unstable, uki_image_probe) run under qemu-user by
loadertruth.kexec, against kimage's kexec-tools verdict at that release.

``kexec -d -l`` is the kexec_load path kimage models (the syscall is answered ENOSYS
under qemu-user, so 2.0.32's kexec_file_load attempt falls back to it); ``-s -l`` is the
kexec_file_load path, which from 2.0.30 hands the kernel .linux (noted in the model,
not judged by it). Skipped with the reason where the suites are not unpacked
(loadertruth/install.sh suite trixie|unstable) or make.sh has not been run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loadertruth import kexec
from validator.checker import Options, check_image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "uki" / "out"
UKIS = ("debian-image.efi", "zboot-gzip.efi")
SUITES = {"trixie": "2.0.29", "unstable": "2.0.32"}

pytestmark = pytest.mark.skipif(not all((OUT / n).is_file() for n in UKIS),
                                reason="no UKIs in build/uki/out: run corpus/uki/make.sh")


def run(monkeypatch, suite: str, mode: str, name: str):
    monkeypatch.setenv("LOADERTRUTH_SUITE", suite)
    ok, why = kexec.available("arm64")
    if not ok:
        pytest.skip(why)
    return kexec.run(mode, OUT / name, name, arch="arm64")


@pytest.mark.parametrize("suite", sorted(SUITES))
@pytest.mark.parametrize("name", UKIS)
def test_kexec_load_path_agrees_with_the_model(monkeypatch, suite, name):
    seen = run(monkeypatch, suite, "kexec-tools", name)
    assert seen.accept is not None, seen.message
    version = SUITES[suite]
    modelled = check_image(OUT / name, Options(loaders={f"kexec-tools@{version}"}))
    verdict = modelled.loaders["kexec-tools"]
    assert (verdict["verdict"] == "accept") == seen.accept, (seen.message, verdict)
    if not seen.accept:
        assert verdict["reasons"] == ["layer/uki"]
    if version == "2.0.29":
        assert "Cannot determine the file type" in seen.message or not seen.accept


@pytest.mark.parametrize("name", UKIS)
def test_kexec_file_path_takes_the_linux_section(monkeypatch, name):
    seen = run(monkeypatch, "unstable", "kexec-tools-file", name)
    assert seen.accept is True, (seen.message, seen.log_tail)


def test_a_compressed_linux_section_is_not_recognised(monkeypatch, tmp_path):
    """uki_image_probe probes .linux as it is: an Image.gz there (a seed-corpus UKI; ukify
    itself would decompress it) is "Can not recognize the kernel format in .linux
    section", and kimage names that reason."""
    from validator import seedcorpus

    sample = next(s for i in range(20) if (s := seedcorpus.generate(
        "uki", seedcorpus.RandomChooser(f"gz/{i}"), mutation="linux-not-pe")).data.find(
        b"\x1f\x8b\x08") > 0)
    path = tmp_path / "gzip-linux.efi"
    path.write_bytes(sample.data)
    monkeypatch.setenv("LOADERTRUTH_SUITE", "unstable")
    ok, why = kexec.available("arm64")
    if not ok:
        pytest.skip(why)
    seen = kexec.run("kexec-tools", path, path.name, arch="arm64")
    assert seen.accept is False
    assert any("Can not recognize the kernel format in .linux section" in line
               for line in seen.log_tail), seen.log_tail
    verdict = check_image(path, Options(loaders={"kexec-tools@2.0.32"})).loaders["kexec-tools"]
    assert verdict["verdict"] == "reject" and verdict["reasons"] == ["layer/uki"]
    assert any("undecompressed" in note for note in verdict["notes"]), verdict["notes"]


def test_kexec_leaves_no_file_of_its_own_in_tmp(monkeypatch):
    """kexec-tools 2.0.29 on writes a UKI's .initrd and .linux to /tmp/InitrdXXXXXX and
    /tmp/KernelXXXXXX and never removes them: the harness removes what the guest created
    (found in qemu-user's system call log), and only that."""
    from loadertruth import common

    logs = []
    real = common._remove_created
    monkeypatch.setattr(common, "_remove_created", lambda log: (logs.append(log), real(log)))
    unrelated = Path("/tmp") / "KernelXXXXXX-not-the-guests"
    unrelated.write_bytes(b"kept")
    try:
        seen = run(monkeypatch, "unstable", "kexec-tools-file", "debian-image.efi")
        assert seen.accept is True, (seen.message, seen.log_tail)
        created = {p for log in logs for p in common._GUEST_CREATES.findall(log)}
        assert {p.rsplit("/", 1)[1][:6] for p in created} == {"Initrd", "Kernel"}, created
        assert not [p for p in created if os.path.lexists(p)]
        assert unrelated.read_bytes() == b"kept"
    finally:
        unrelated.unlink()


def test_the_guest_log_names_only_files_created_in_tmp():
    from loadertruth.common import _GUEST_CREATES

    log = "\n".join((
        '23602 openat(AT_FDCWD,"/tmp/InitrdLhMSsY",O_RDWR|O_CREAT|O_EXCL,0600) = 5',
        '23602 openat(AT_FDCWD,"/tmp/InitrdLhMSsY",O_RDONLY) = 6',
        '23602 open("/tmp/KernelAb12Cd",O_RDWR|O_CREAT|O_EXCL,0600) = 5',
        '23602 openat(AT_FDCWD,"/proc/iomem",O_RDONLY) = 3',
        '23602 openat(AT_FDCWD,"/var/tmp/x",O_RDWR|O_CREAT,0600) = 4',
        '23602 openat(AT_FDCWD,"/tmp/sub/x",O_RDWR|O_CREAT,0600) = 4',
    ))
    assert _GUEST_CREATES.findall(log) == ["/tmp/InitrdLhMSsY", "/tmp/KernelAb12Cd"]
