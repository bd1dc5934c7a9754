"""Debian 12's own linux-image packages (arm64, ppc64el), checked as they are shipped.

The packages are fetched with ``apt-get download`` into build/deb (never committed); the
tests skip, saying why, when the archive cannot be reached. Every expected value comes
from Debian's tools and the unpacked files: ``dpkg-deb -f`` (control fields), ``dpkg-deb
-x`` (the installed kernel: its size, its banner found with ``grep -a``; its config's
lines), ``xz --list -vv`` (the data archive's decoded size and dictionary) and GNU time
(peak memory) — never from kimage.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from validator import checker

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "deb"
PACKAGES = {"arm64": ("linux-image-arm64", "arm64"),
            "ppc64el": ("linux-image-powerpc64le", "ppc64el")}
MiB = 1 << 20


def _download(arch: str) -> Path:
    """The newest Debian linux-image package for ``arch`` in build/deb (fetched once)."""
    meta, debarch = PACKAGES[arch]
    flavour = meta.removeprefix("linux-image-")
    name = re.compile(rf"linux-image-[\d.]+-\d+-{flavour}_[^_]+_{debarch}\.deb$")
    have = sorted(p for p in glob.glob(str(CACHE / "*.deb"))
                  if name.match(os.path.basename(p)))
    if have:
        return Path(have[-1])
    if shutil.which("apt-get") is None:
        pytest.skip("apt-get is not available to fetch Debian's kernel packages")
    CACHE.mkdir(parents=True, exist_ok=True)
    deps = subprocess.run(["apt-cache", "depends", f"{meta}:{debarch}"],
                          capture_output=True, text=True)
    m = re.search(rf"Depends: (linux-image-[\d.]+-\d+-{flavour})\b", deps.stdout)
    if m is None:
        pytest.skip(f"apt-cache knows no {meta}:{debarch} (foreign architecture not added?)")
    got = subprocess.run(["apt-get", "download", f"{m.group(1)}:{debarch}"], cwd=CACHE,
                         capture_output=True, text=True, timeout=600)
    have = sorted(glob.glob(str(CACHE / f"{m.group(1)}_*_{debarch}.deb")))
    if got.returncode or not have:
        pytest.skip(f"the Debian archive is unreachable: apt-get download {m.group(1)}: "
                    f"{(got.stderr or got.stdout).strip().splitlines()[-1:]}")
    return Path(have[-1])


class Package:
    """A downloaded package, its files as dpkg-deb -x installs them, and kimage's check."""

    def __init__(self, path: Path, tmp: Path):
        self.path = path
        self.root = tmp / "root"
        subprocess.run(["dpkg-deb", "-x", str(path), str(self.root)], check=True)
        kernels = sorted((self.root / "boot").glob("vmlinu[xz]-*"))
        assert len(kernels) == 1, kernels
        self.kernel = kernels[0]
        self.release = self.kernel.name.split("-", 1)[1]
        self.config = self.root / "boot" / f"config-{self.release}"
        self.fields = {name: subprocess.run(["dpkg-deb", "-f", str(path), name],
                                            capture_output=True, text=True,
                                            check=True).stdout.strip()
                       for name in ("Package", "Version", "Architecture")}
        grep = subprocess.run(["grep", "-a", "-o", "-m1", "-E",
                               r"Linux version [0-9]+\.[0-9]+[^ ]* \(", str(self.kernel)],
                              capture_output=True, text=True)
        self.banner_release = grep.stdout.split()[2]
        self.result = checker.check_image(path, checker.Options())


@pytest.fixture(scope="module", params=sorted(PACKAGES))
def package(request, tmp_path_factory):
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed")
    path = _download(request.param)
    return Package(path, tmp_path_factory.mktemp(request.param))


def _layer(result, kind: str) -> dict:
    return next(layer.details for layer in result.layers if layer.kind == kind)


def test_a_real_package_passes_check_with_default_options(package):
    rules = [f.rule for f in package.result.findings]
    assert "layer/decompression-limit" not in rules
    assert not [f for f in package.result.findings if f.severity in ("error", "warning")]
    assert not checker.exceeds(package.result, "warning")


def test_the_kernel_judged_is_the_one_dpkg_installs(package):
    tar = _layer(package.result, "tar")
    assert tar["member"] == f"./boot/{package.kernel.name}"
    assert tar["member_size"] == package.kernel.stat().st_size
    assert tar["kernel_release"] == package.release
    # the banner inside the installed kernel (grep -a), and V of its name, agree
    assert package.result.facts["kernel_version"] == package.banner_release == package.release
    assert package.result.payload_size == package.kernel.stat().st_size


def test_the_control_fields_are_reported(package):
    deb = _layer(package.result, "deb")
    assert (deb["package"], deb["package_version"], deb["architecture"]) == (
        package.fields["Package"], package.fields["Version"], package.fields["Architecture"])


def test_the_packaged_config_checks_the_kernel_as_config_would(package):
    """The findings with the packaged config are those with --config of the installed
    config-V; the config is really read (its page size line is the kernel's)."""
    tar = _layer(package.result, "tar")
    assert tar["config_member"] == f"./boot/{package.config.name}"
    assert tar["config_size"] == package.config.stat().st_size
    from validator import kconfig

    given = checker.check_image(package.path, checker.Options(
        config=kconfig.load(str(package.config))))
    def rules(result):
        return sorted(f.rule for f in result.findings if not f.rule.startswith("symbols/"))
    assert rules(given) == rules(package.result)


def test_the_placeholder_system_map_is_read_as_system_map_reads_it(package):
    stub = (package.root / "boot" / f"System.map-{package.release}").read_text()
    assert "real System.map is in" in stub  # Debian's one-line placeholder
    assert [f.rule for f in package.result.findings if f.rule.startswith("symbols/")] == [
        "symbols/stub"]


def test_the_data_archive_is_larger_than_one_decoder_cap_and_memory_stays_bounded(
        package, tmp_path):
    data = tmp_path / "data.tar.xz"
    with open(data, "wb") as f:
        subprocess.run(["ar", "p", str(package.path), "data.tar.xz"], stdout=f, check=True)
    listing = subprocess.run(["xz", "--list", "-vv", "--robot", str(data)],
                             capture_output=True, text=True, check=True).stdout
    data.unlink()
    totals = next(line.split("\t") for line in listing.splitlines()
                  if line.startswith("totals"))
    assert int(totals[4]) > 64 * MiB  # what the per-decoder cap would have stopped
    # dpkg-deb's xz: 8 MiB dictionaries, well within the decoders' 36 MiB
    assert "--lzma2=dict=8MiB" in listing
    assert int(_layer(package.result, "xz")["decoded_size"]) == int(totals[4])
    if not os.path.exists("/usr/bin/time"):
        pytest.skip("GNU time is not installed")
    run = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "validator",
                          "check", str(package.path)], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert int(run.stderr.strip().splitlines()[-1]) <= 64 * 1024  # KiB


def test_a_package_built_with_a_wrong_config_is_judged_by_its_config(package, tmp_path):
    """dpkg-deb --build of the real kernel with a config that contradicts it: the packaged
    config is used; lint pairs nothing from beside the package (a matching .config there
    does not hide it) and finds the same."""
    if package.kernel.name.startswith("vmlinux"):
        pytest.skip("one architecture suffices (arm64)")
    tree = tmp_path / "pkg"
    (tree / "boot").mkdir(parents=True)
    (tree / "DEBIAN").mkdir()
    shutil.copy(package.kernel, tree / "boot" / package.kernel.name)
    lines = package.config.read_text().splitlines()
    assert "CONFIG_ARM64_4K_PAGES=y" in lines
    wrong = [("# CONFIG_ARM64_4K_PAGES is not set" if line == "CONFIG_ARM64_4K_PAGES=y"
              else "CONFIG_ARM64_64K_PAGES=y" if line == "# CONFIG_ARM64_64K_PAGES is not set"
              else line) for line in lines]
    (tree / "boot" / package.config.name).write_text("\n".join(wrong) + "\n")
    (tree / "DEBIAN" / "control").write_text(
        "Package: kimage-test-kernel\nVersion: 1.0\nArchitecture: arm64\n"
        "Maintainer: kimage <kimage@test>\nDescription: test\n")
    out = tmp_path / "lint" / "linux-image-test_1.0_arm64.deb"
    out.parent.mkdir()
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(tree),
                    str(out)], check=True, capture_output=True)
    checked = checker.check_image(out, checker.Options())
    assert "config/page-size-mismatch" in [f.rule for f in checked.findings]
    shutil.copy(package.config, out.parent / ".config")  # the right one, beside: not paired
    lint = subprocess.run([sys.executable, "-m", "validator", "lint", "--format", "json",
                           str(out.parent)], cwd=ROOT, capture_output=True, text=True)
    assert "config/page-size-mismatch" in lint.stdout
    assert "kimage-test-kernel" in lint.stdout
