"""kimage's kexec-tools verdicts on riscv64 Images against the real kexec-tools.

The real one is Debian unstable's kexec-tools 2.0.32 for riscv64 (the first release with
a riscv port), run under qemu-riscv64 user mode up to the system call
(loadertruth/kexec_riscv.py), on one-field variants of the Debian 13 riscv64 Image
(corpus/real/debian-6.12.117+deb13-riscv64, materialised): its verdict is the expected
value, kimage's must equal it, for ``kexec -l`` and ``kexec -p``. Skipped with the reason
when qemu-user or the unpacked kexec-tools is missing (``loadertruth/install.sh riscv``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from loadertruth import kexec_riscv, uboot_riscv
from validator import checker

OK, WHY = kexec_riscv.available()
REAL = "debian-6.12.117+deb13-riscv64"


@pytest.fixture(scope="module")
def runs(real_images, tmp_path_factory):
    """variant -> (class, kimage's kexec-tools entry, real -l verdict, real -p verdict)."""
    if not OK:
        pytest.skip(f"kexec-tools (riscv64) not runnable: {WHY}")
    out = tmp_path_factory.mktemp("riscv-truth")
    data = real_images[REAL].read_bytes()
    paths = {}
    for name, (cls, blob) in kexec_riscv.variants(data).items():
        (out / name).write_bytes(blob)
        paths[name] = cls
    jobs = [(name, loader) for name in paths for loader in kexec_riscv.MODES]
    with ThreadPoolExecutor(2) as pool:
        real = dict(zip(jobs, pool.map(
            lambda job: kexec_riscv.run(job[1], out / job[0], job[0]), jobs), strict=True))
    result = {}
    for name, cls in paths.items():
        ours = checker.check_image(out / name, checker.Options(
            loaders=["kexec-tools@2.0.32"])).loaders["kexec-tools"]
        result[name] = (cls, ours, real[name, "kexec-tools"], real[name, "kexec-tools-crash"])
    return result


def test_the_harness_ran_every_variant(runs):
    assert len(runs) == 16
    for name, (_, _, load, crash) in runs.items():
        assert load.accept is not None and crash.accept is not None, (name, load.message)


@pytest.mark.parametrize("mode", [2, 3], ids=["kexec -l", "kexec -p"])
def test_kexec_verdicts_agree(runs, mode):
    """kimage's kexec-tools 2.0.32 verdict is the real one, for -l and -p."""
    differ = {name: (run[1]["verdict"], run[mode].accept, run[mode].message)
              for name, run in runs.items()
              if (run[1]["verdict"] == "accept") != run[mode].accept}
    assert not differ, differ


def test_what_refuses_and_where_it_goes(runs):
    """The refusals are the ones kexec-image-riscv.c makes, and an accepted Image is put
    at a text_offset-aligned base in RAM (-l) or at the crash region's start (-p)."""
    refused = {name for name, (_, _, load, _) in runs.items() if not load.accept}
    assert refused == {"magic2-broken", "magic2-zero", "version-0.1", "image-size-0",
                       "image-size-4g", "flags-be", "header-cut"}
    _, _, load, crash = runs["original"]
    assert load.observed["kernel_addr"] % 0x200000 == 0
    assert load.observed["kernel_addr"] >= 0x80000000
    assert crash.observed["kernel_addr"] == 0xC0000000
    assert runs["text-offset-4m"][2].observed["kernel_addr"] % 0x400000 == 0


def test_debians_build_refuses_a_gzip_image(real_images, tmp_path):
    """Debian's riscv64 kexec links no zlib (readelf -d: libc only), so an Image.gz is
    probed compressed and refused; kimage says so for kexec-tools@2.0.32+debian and not
    for an upstream build."""
    import gzip

    if not OK:
        pytest.skip(f"kexec-tools (riscv64) not runnable: {WHY}")
    path = tmp_path / "Image.gz"
    path.write_bytes(gzip.compress(real_images[REAL].read_bytes(), compresslevel=1))
    real = kexec_riscv.run("kexec-tools", path, "Image.gz")
    assert real.accept is False, real.message
    ours = checker.check_image(path, checker.Options(loaders=["kexec-tools@2.0.32+debian"]))
    assert ours.loaders["kexec-tools"]["verdict"] == "reject"
    assert ours.loaders["kexec-tools"]["reasons"] == ["loader/codec-not-linked"]
    upstream = checker.check_image(path, checker.Options(loaders=["kexec-tools@2.0.32"]))
    assert upstream.loaders["kexec-tools"]["verdict"] == "accept"


#: make test runs one release of the pair; make loader-truth (pytest -m loader_truth) the other
DEFAULT = next(r for r, path in uboot_riscv.BINARIES.items() if path == uboot_riscv.UBOOT_BIN)
RELEASES = [r if r == DEFAULT else pytest.param(r, marks=pytest.mark.loader_truth)
            for r in sorted(uboot_riscv.BINARIES)]


@pytest.mark.parametrize("release", RELEASES)
def test_uboot_booti_verdicts_agree(real_images, tmp_path, release):
    """Debian 12's U-Boot 2023.01 and Debian 13's 2025.01 (qemu-riscv64_smode) booti on the
    same variants: kimage's u-boot verdict at that release is U-Boot's. A header cut short
    is read on from RAM, so U-Boot starts it (kimage: u-boot accepts a
    riscv64/truncated-header file). ``make test`` runs 2025.01 (the harness's default),
    ``make loader-truth`` 2023.01 as well."""
    ok, why = uboot_riscv.available(release)
    if not ok:
        pytest.skip(f"U-Boot {release} (riscv64) not runnable: {why}")
    data = real_images[REAL].read_bytes()
    seen = {}
    for name, (_, blob) in kexec_riscv.variants(data).items():
        path = tmp_path / name
        path.write_bytes(blob)
        real = uboot_riscv.run(path, name, release=release)
        assert real.accept is not None, (name, real.message, real.log_tail[-5:])
        ours = checker.check_image(path, checker.Options(
            loaders=[f"u-boot@{release}"])).loaders["u-boot"]["verdict"]
        seen[name] = ((ours == "accept") == real.accept, real.message)
    assert {name: m for name, (same, m) in seen.items() if not same} == {}
    assert seen["magic2-broken"][1] == "Bad Linux RISCV Image magic!"
    assert seen["image-size-0"][1] == "Image lacks image_size field, error!"
