"""Debian's kernel packages from Linux 7.x, built by the real ``dpkg-deb --build``.

Debian unstable's linux-signed-arm64 7.2.13-1 splits a kernel three ways (its Packages
index and ``dpkg-deb -c`` of the packages): ``linux-binary-V`` holds the image at
``usr/lib/modules/V/vmlinuz``; ``linux-base-V`` holds ``usr/lib/modules/V/config``,
``System.map`` and the device trees; ``linux-image-V`` is a metapackage of documentation
files that depends on both. These tests lay the real Debian 6.1 arm64 kernel (the corpus
excerpt) and its config out that way; what kimage must report comes from the layout and
from ``dpkg-deb -c`` (the member, its size), never from kimage."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from validator import checker

pytestmark = pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="dpkg-deb not installed")

REAL = ROOT / "corpus/real/debian-6.1.0-50-arm64"
V = "6.1.0-50-arm64"


def filled_kernel() -> bytes:
    """The real kernel's excerpt (header, PE headers, banners, certificate table) with its
    holes filled by seeded random bytes: as incompressible as a real Image, so data.tar is
    no decompression bomb, and with every byte kimage reads the real one."""
    import random

    spec = json.loads((REAL / "image.excerpt.json").read_text())
    out = bytearray(random.Random(0).randbytes(spec["source"]["size"]))
    for r in spec["ranges"]:
        out[r["offset"]:r["offset"] + r["length"]] = bytes.fromhex(r["hex"])
    return bytes(out)


def build(tmp: Path, package: str, files: dict[str, bytes | str],
          compression: tuple[str, ...] = ("-Zxz",), dest: Path | None = None) -> Path:
    """``dpkg-deb --build`` of a tree of ``files`` (relative path -> bytes, or a symlink
    target as str) with a minimal DEBIAN/control."""
    root = tmp / package
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(
        f"Package: {package}\nVersion: 7.0-1\nArchitecture: arm64\n"
        f"Maintainer: kimage <kimage@example.invalid>\nDescription: layout test\n")
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.symlink_to(content)
        else:
            path.write_bytes(content)
    out = (dest or tmp) / f"{package}_7.0-1_arm64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", *compression, "--build", str(root), str(out)],
                   check=True, capture_output=True, timeout=300)
    return out


def listing(deb: Path) -> dict[str, int]:
    """Regular files of the package and their sizes, as ``dpkg-deb -c`` lists them."""
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    return {line.split()[5]: int(line.split()[2]) for line in out.splitlines()
            if line.startswith("-")}


def test_linux_binary_holds_the_kernel_at_usr_lib_modules(tmp_path):
    image = filled_kernel()
    deb = build(tmp_path, f"linux-binary-{V}", {f"usr/lib/modules/{V}/vmlinuz": image},
                ("-Zgzip", "-z1"))  # Debian's is xz; gzip keeps 33 MB quick to build
    member = f"./usr/lib/modules/{V}/vmlinuz"
    assert listing(deb)[member] == len(image)
    result = checker.check_image(deb, checker.Options())
    tar = next(layer for layer in result.layers if layer.kind == "tar")
    assert tar.details["member"] == member
    assert tar.details["member_size"] == len(image)
    assert tar.details["kernel_release"] == V  # the directory dpkg installs it in
    expected = json.loads((REAL / "expected.json").read_text())["facts"]
    assert result.format == "arm64-image"
    assert result.facts["image_size"] == expected["image_size"]
    assert result.facts["kernel_version"] == expected["kernel_version"]
    assert not [f for f in result.findings if f.severity == "error"]
    assert {v["verdict"] for v in result.loaders.values()} == {"accept"}


def test_linux_base_is_the_kernels_companions_no_loader_reads(tmp_path):
    config = (REAL / "config").read_bytes()
    deb = build(tmp_path, f"linux-base-{V}", {
        f"usr/lib/modules/{V}/config": config,
        f"usr/lib/modules/{V}/System.map": b"ffffffc008000000 T _text\n",
        f"usr/lib/modules/{V}/dtb/vendor/board.dtb": b"\xd0\x0d\xfe\xed" + bytes(60)})
    assert f"./usr/lib/modules/{V}/config" in listing(deb)
    result = checker.check_image(deb, checker.Options())
    rules = {f.rule: f for f in result.findings}
    assert "deb/kernel-companions" in rules and "deb/no-kernel" not in rules
    assert f"usr/lib/modules/{V}/config" in rules["deb/kernel-companions"].message
    assert {v["verdict"] for v in result.loaders.values()} == {"n/a"}
    assert not [f for f in result.findings if f.severity in ("error", "warning")]


def test_linux_image_is_a_metapackage_no_loader_reads(tmp_path):
    deb = build(tmp_path, f"linux-image-{V}", {
        f"usr/share/doc/linux-image-{V}": f"linux-base-{V}",
        f"usr/share/bug/linux-image-{V}": b"",
        f"usr/share/lintian/overrides/linux-image-{V}": b"# overrides\n"})
    assert all(p.startswith("./usr/share/") for p in listing(deb))
    result = checker.check_image(deb, checker.Options())
    rules = {f.rule for f in result.findings}
    assert "deb/metapackage" in rules and "deb/no-kernel" not in rules
    assert {v["verdict"] for v in result.loaders.values()} == {"n/a"}


def test_a_6x_package_without_its_kernel_is_still_an_error(tmp_path):
    """Only the 7.x companions' paths make a package without a kernel benign: a
    linux-image-V that installs boot/config-V and no boot/vmlinuz-V is broken."""
    deb = build(tmp_path, f"linux-image-{V}", {f"boot/config-{V}": (REAL / "config").read_bytes()})
    rules = {f.rule for f in checker.check_image(deb, checker.Options()).findings}
    assert "deb/no-kernel" in rules and "deb/kernel-companions" not in rules


def test_lint_walks_linux_binary_packages(tmp_path):
    from validator.commands._lint_walk import is_image_name

    assert is_image_name(f"linux-binary-{V}_7.0-1_arm64.deb")
    assert not is_image_name(f"linux-base-{V}_7.0-1_arm64.deb")


# --- Debian unstable's own packages ------------------------------------------------------

@pytest.fixture(scope="module")
def unstable_split() -> dict[str, Path]:
    """linux-image-V, linux-binary-V and linux-base-V of unstable's linux-image-arm64
    (corpus/deb/fetch_unstable_split.py; ``make test``'s set-up fetches them)."""
    from corpus.deb.fetch_unstable_split import fetch

    got = fetch()
    if isinstance(got, str):
        pytest.skip(got)
    return got


def test_unstables_split_kernel_packages(unstable_split, tmp_path):
    """Each of the three real packages: the binary judged as the kernel dpkg installs (its
    banner found by ``grep -a`` in what ``dpkg-deb -x`` wrote), the other two n/a."""
    v = unstable_split["release"]
    member = f"./usr/lib/modules/{v}/vmlinuz"
    assert member in listing(unstable_split["binary"])
    subprocess.run(["dpkg-deb", "-x", str(unstable_split["binary"]), str(tmp_path)],
                   check=True, timeout=300)
    installed = tmp_path / member
    grep = subprocess.run(["grep", "-a", "-o", "-m1", r"Linux version [^ ]* (",
                           str(installed)], capture_output=True, text=True, timeout=60)
    banner = grep.stdout.split()[2] if grep.returncode == 0 else None
    result = checker.check_image(unstable_split["binary"], checker.Options())
    tar = next(layer for layer in result.layers if layer.kind == "tar")
    assert tar.details["member"] == member
    assert tar.details["member_size"] == installed.stat().st_size
    assert result.format == "arm64-image"
    assert banner is None or result.facts["kernel_version"] == banner
    assert not [f for f in result.findings if f.severity == "error"], result.findings
    assert "accept" in {v["verdict"] for v in result.loaders.values()}

    for key, rule in (("base", "deb/kernel-companions"), ("image", "deb/metapackage")):
        other = checker.check_image(unstable_split[key], checker.Options())
        assert rule in {f.rule for f in other.findings}, key
        assert {x["verdict"] for x in other.loaders.values()} == {"n/a"}, key


def test_lint_pairs_linux_binary_with_its_linux_base(tmp_path):
    """In a tree of Linux 7.x packages lint judges linux-binary-V's kernel with the config
    of linux-base-V beside it: a config that says 16K pages against the real 4K Image is
    config/page-size-mismatch; the real config is quiet."""
    import re

    from validator.cli import main

    real_config = (REAL / "config").read_text()
    assert "CONFIG_ARM64_4K_PAGES=y" in real_config  # the package's own, as shipped
    wrong = re.sub(r"# CONFIG_ARM64_16K_PAGES is not set", "CONFIG_ARM64_16K_PAGES=y",
                   re.sub(r"CONFIG_ARM64_4K_PAGES=y", "# CONFIG_ARM64_4K_PAGES is not set",
                          real_config))
    kernel = filled_kernel()
    for name, config in (("good", real_config), ("wrong", wrong)):
        tree, stage = tmp_path / name, tmp_path / f"{name}-stage"
        tree.mkdir()
        stage.mkdir()
        build(stage, f"linux-binary-{V}", {f"usr/lib/modules/{V}/vmlinuz": kernel},
              ("-Zgzip", "-z1"), dest=tree)
        build(stage, f"linux-base-{V}", {f"usr/lib/modules/{V}/config": config.encode()},
              dest=tree)
        out = tree / "report.json"
        main(["lint", str(tree), "--format", "json", "--output", str(out), "-j", "1"])
        images = {Path(i["path"]).name.split("_")[0]: i
                  for i in json.loads(out.read_text())["images"]}
        assert set(images) == {f"linux-binary-{V}"}  # linux-base is no image lint walks
        rules = {f["rule"] for f in images[f"linux-binary-{V}"]["findings"]}
        assert ("config/page-size-mismatch" in rules) == (name == "wrong"), (name, rules)
