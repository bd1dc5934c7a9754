"""kimage's kexec-tools verdicts on x86 bzImages against the real kexec-tools.

The real one is Debian 12's kexec-tools 2.0.25 for amd64, run under qemu-x86_64 user
mode up to the system call (loadertruth/kexec_x86.py), on variants of the Debian 6.1
amd64 kernel (corpus/real/debian-6.1.0-50-amd64, materialised): its verdict is the
expected value, kimage's must equal it. Skipped with the reason when qemu-user or the
unpacked kexec-tools is missing (``loadertruth/install.sh x86``). The same variants go
through Debian 12's qemu-system-x86_64 -kernel (loadertruth/qemu_x86.py), against
kimage's qemu verdict.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from loadertruth import kexec_x86, qemu_x86
from validator import checker

OK, WHY = kexec_x86.available()
REAL = "debian-6.1.0-50-amd64"


@pytest.fixture(scope="module")
def runs(real_images, tmp_path_factory):
    """variant -> (class, kimage's kexec-tools entry, real -l verdict, real -p verdict)."""
    if not OK:
        pytest.skip(f"kexec-tools (amd64) not runnable: {WHY}")
    out = tmp_path_factory.mktemp("x86-truth")
    data = real_images[REAL].read_bytes()
    paths = {}
    for name, (cls, blob) in kexec_x86.variants(data).items():
        (out / name).write_bytes(blob)
        paths[name] = cls
    jobs = [(name, loader) for name in paths for loader in kexec_x86.MODES]
    with ThreadPoolExecutor(2) as pool:
        real = dict(zip(jobs, pool.map(
            lambda job: kexec_x86.run(job[1], out / job[0], job[0]), jobs), strict=True))
    result = {}
    for name, cls in paths.items():
        ours = checker.check_image(out / name, checker.Options()).loaders["kexec-tools"]
        result[name] = (cls, ours, real[name, "kexec-tools"], real[name, "kexec-tools-crash"])
    return result


def test_the_harness_ran_every_variant(runs):
    assert len(runs) == 13
    for name, (_, _, load, crash) in runs.items():
        assert load.accept is not None and crash.accept is not None, (name, load.message)


def test_kexec_load_verdicts_agree(runs):
    """``kexec -l``: kimage's kexec-tools verdict is the real one."""
    differ = {name: (ours["verdict"], real.accept, real.message)
              for name, (_, ours, real, _) in runs.items()
              if (ours["verdict"] == "accept") != real.accept}
    assert not differ, differ


def test_kexec_panic_verdicts_agree(runs):
    """``kexec -p``: the same, except where kimage's note says -p refuses (a kernel that
    is not relocatable and goes through the 32-bit bzImage loader)."""
    for name, (_, ours, _, real) in runs.items():
        refuses = any("`kexec -p` refuses" in note for note in ours["notes"])
        assert (ours["verdict"] == "accept" and not refuses) == real.accept, (
            name, ours, real.message)


def test_which_loader_takes_it_and_where(runs):
    """bzImage64 for the real kernel, the 32-bit bzImage loader once bzImage64_probe
    refuses (as kimage's note says); -l puts the kernel at a 2 MiB multiple in RAM, -p
    inside the fixture's crash region."""
    _, ours, load, crash = runs["original"]
    assert load.observed["kernel_loader"] == crash.observed["kernel_loader"] == "64bit"
    assert load.observed["kernel_addr"] % 0x200000 == 0
    lo, hi = kexec_x86.CRASH
    assert lo <= crash.observed["kernel_addr"] < hi
    _, ours, load, _ = runs["xlf-kernel64-only"]
    assert load.observed["kernel_loader"] == "32bit"
    assert any("32-bit bzImage loader" in note for note in ours["notes"])


#: Variants where QEMU and kimage differ on purpose: without "HdrS" QEMU loads any file
#: long enough as a pre-2.00 zImage (x86_load_linux: protocol 0, real-mode code at
#: 0x90000) and starts whatever it holds; kimage finds no kernel in it.
QEMU_EXPLAINED = {"hdrs-broken"}


@pytest.mark.skipif(not qemu_x86.available()[0],
                    reason=f"QEMU not runnable: {qemu_x86.available()[1]}")
def test_qemu_kernel_verdicts_agree(real_images, tmp_path):
    """qemu-system-x86_64 -kernel (Debian 12's QEMU 7.2) on the same variants: kimage's
    qemu verdict is QEMU's, except the documented ``QEMU_EXPLAINED``."""
    data = real_images[REAL].read_bytes()
    seen = {}
    for name, (_, blob) in kexec_x86.variants(data).items():
        path = tmp_path / name
        path.write_bytes(blob)
        real = qemu_x86.run(path, name)
        assert real.accept is not None, (name, real.message)
        ours = checker.check_image(path, checker.Options()).loaders["qemu"]["verdict"]
        seen[name] = (ours == "accept") == real.accept
    assert {name for name, same in seen.items() if not same} == QEMU_EXPLAINED
