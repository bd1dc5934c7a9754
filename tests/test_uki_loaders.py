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
