"""Arch Linux kernel packages (.pkg.tar.zst): the seed corpus's, and packages built in
makepkg's layout with makepkg's own archiver (corpus/archpkg/make.sh: bsdtar and zstd
around the real kernels the corpus keeps; makepkg itself is not on this machine). The
expected values come from bsdtar (``-tf`` the order, ``-xOf`` .PKGINFO and the kernel),
grep and file(1), never from kimage. And ``kimage lint`` walks kernel packages (rpm,
pkg.tar.zst) and judges each with the companions it carries."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from validator import checker, seedcorpus
from validator.formats.archpkg.samples import ARCHPKG_MUTATIONS

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "archpkg"
HAVE = shutil.which("bsdtar") and shutil.which("zstd")
NEED = "bsdtar or zstd not installed (apt-get install libarchive-tools zstd)"


def rules(result) -> set[str]:
    return {f.rule for f in result.findings}


@pytest.mark.parametrize("mutation", sorted(ARCHPKG_MUTATIONS))
def test_each_mutation_gets_its_finding(mutation, tmp_path):
    sample = seedcorpus.KINDS["archpkg"][0](seedcorpus.RandomChooser(1), mutation)
    path = tmp_path / "linux.pkg.tar.zst"
    path.write_bytes(sample.data)
    result = checker.check_image(path, checker.Options())
    assert set(ARCHPKG_MUTATIONS[mutation][0]) <= rules(result), rules(result)
    assert "archpkg/no-kernel" in rules(result)  # each mutation leaves no kernel file
    assert [layer.kind for layer in result.layers] == ["zstd", "archpkg"]


@pytest.mark.skipif(not HAVE, reason=NEED)
def test_a_valid_sample_is_an_archive_bsdtar_reads(tmp_path):
    sample = seedcorpus.generate("archpkg", seedcorpus.RandomChooser(3), valid=True)
    path = tmp_path / "linux.pkg.tar.zst"
    path.write_bytes(sample.data)
    names = subprocess.run(["bsdtar", "-tf", str(path)], capture_output=True, text=True,
                           check=True).stdout.split()
    assert names[:3] == [".BUILDINFO", ".MTREE", ".PKGINFO"]
    assert names[-1] == sample.params["kernel_path"]
    kernel = subprocess.run(["bsdtar", "-xOf", str(path), sample.params["kernel_path"]],
                            capture_output=True, check=True).stdout
    result = checker.check_image(path, checker.Options())
    assert result.layers[1].details["member_size"] == len(kernel)
    assert result.format == "arm64-image" and "config" in result.companions
    assert rules(result) <= set(sample.expect) | {"layer/not-unwrapped"}


def test_a_plain_zstd_tar_is_not_a_package(tmp_path):
    """Only a tar whose first member is makepkg's metadata is read as a package."""
    from validator.formats.archpkg.samples import archpkg_bytes

    path = tmp_path / "x.tar.zst"
    path.write_bytes(archpkg_bytes([("usr", "dir", b""), ("usr/x", "file", b"x" * 100)]))
    result = checker.check_image(path, checker.Options())
    assert "archpkg" not in [layer.kind for layer in result.layers]


@pytest.fixture(scope="module")
def packages() -> list[Path]:
    if not HAVE:
        pytest.skip(NEED)
    have = sorted(OUT.glob("*.pkg.tar.zst"))
    if len(have) < 2:
        run = subprocess.run(["sh", str(ROOT / "corpus" / "archpkg" / "make.sh"), str(OUT)],
                             capture_output=True, text=True, timeout=300)
        if run.returncode:
            pytest.skip(f"corpus/archpkg/make.sh failed: {run.stderr.strip()[-300:]}")
        have = sorted(OUT.glob("*.pkg.tar.zst"))
    return have


@pytest.mark.parametrize("index", range(2))
def test_a_package_in_makepkg_layout_is_read_as_pacman_would(packages, index, tmp_path):
    path = packages[index]
    info = subprocess.run(["bsdtar", "-xOf", str(path), ".PKGINFO"], capture_output=True,
                          text=True, check=True).stdout
    fields = dict(line.split(" = ", 1) for line in info.splitlines() if " = " in line)
    names = subprocess.run(["bsdtar", "-tf", str(path)], capture_output=True, text=True,
                           check=True).stdout.split()
    kernel = next(n for n in names if n.endswith("/vmlinuz"))
    subprocess.run(["bsdtar", "-xf", str(path), "-C", str(tmp_path), kernel,
                    *[n for n in names if n.endswith(("/pkgbase", "/.config"))]], check=True)
    kfile = tmp_path / kernel
    kind = subprocess.run(["file", "-b", str(kfile)], capture_output=True, text=True).stdout
    grep = subprocess.run(["grep", "-a", "-o", "-m1", "-E", r"Linux version [0-9.]+[^ ]* \(",
                           str(kfile)], capture_output=True, text=True).stdout.split()
    release = grep[2] if grep else kind.split("version ", 1)[1].split()[0]

    result = checker.check_image(path, checker.Options())
    layer = result.layers[1]
    assert [x.kind for x in result.layers[:2]] == ["zstd", "archpkg"]
    d = layer.details
    assert (d["package"], d["pkgbase"], d["package_version"], d["architecture"]) == (
        fields["pkgname"], fields["pkgbase"], fields["pkgver"], fields["arch"])
    assert (d["member"], d["member_size"]) == (kernel, kfile.stat().st_size)
    assert d["pkgbase_file"] == (kfile.parent / "pkgbase").read_text().strip()
    assert result.facts["kernel_version"] == release
    config = kfile.parent / "build" / ".config"
    if config.exists():
        assert result.companions["config"] == config.read_bytes()
    assert not [f for f in result.findings if f.severity == "error"], result.findings


def test_lint_walks_kernel_packages_and_judges_each_with_what_it_carries(packages,
                                                                         tmp_path):
    from tests.test_rpm_real import _packages

    rpms = _packages()
    tree = tmp_path / "repo"
    tree.mkdir()
    for p in [*packages, *rpms]:
        (tree / p.name).symlink_to(p)
    # packages of the kernel that hold no kernel are not walked
    (tree / "linux-headers-6.1.176.arch1-1-x86_64.pkg.tar.zst").symlink_to(packages[0])
    (tree / "kernel-modules-6.1.176-50.x86_64.rpm").symlink_to(rpms[0])
    run = subprocess.run([sys.executable, "-m", "validator", "lint", str(tree), "--format",
                          "json"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    images = {Path(i["path"]).name: i for i in json.loads(run.stdout)["images"]}
    assert sorted(images) == sorted(p.name for p in [*packages, *rpms])
    for name, image in images.items():
        assert image["verdict"] == "pass", (name, image["findings"])
        # each rpm's own System.map was paired: Debian's one-line stub is reported by
        # name (the ppc64le one holds real symbols, corpus/real/*/PROVENANCE.md)
        stub = [f["message"] for f in image["findings"] if f["rule"] == "symbols/stub"]
        if name.endswith(".rpm") and "ppc64le" not in name:
            assert stub and "System.map" in stub[0], name


def test_qemu_judges_the_kernel_the_package_carries(packages):
    path = next(p for p in packages if "aarch64" in p.name)
    result = checker.check_image(path, checker.Options())
    assert "layer/not-unwrapped" not in {f.rule for f in result.findings}


def test_an_older_xz_package_is_read_too(tmp_path):
    """Before pacman 5.2 makepkg's default PKGEXT was .pkg.tar.xz: the same layout."""
    import tarfile

    import zstandard

    from validator.formats.compression.writer import compress

    sample = seedcorpus.generate("archpkg", seedcorpus.RandomChooser(3), valid=True)
    tar = tmp_path / "t.tar"
    tar.write_bytes(zstandard.ZstdDecompressor().decompressobj().decompress(sample.data))
    with tarfile.open(tar) as tf:
        assert tf.getnames()[2] == ".PKGINFO"
    path = tmp_path / "linux-6.1-1-aarch64.pkg.tar.xz"
    path.write_bytes(compress("xz", tar.read_bytes()))
    result = checker.check_image(path, checker.Options())
    assert [layer.kind for layer in result.layers[:2]] == ["xz", "archpkg"]
    assert result.format == "arm64-image"
