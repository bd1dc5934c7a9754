"""The seed corpus's Debian packages (``validator.formats.deb.samples``) are packages dpkg
accepts: the real ``dpkg-deb`` is the oracle. ``--info`` reads the control member,
``-c`` lists data.tar, ``-x`` installs ./boot/vmlinu[xz]-V with the inner kernel's bytes
(the bytes the sample was built from, compared with what dpkg-deb wrote to disk); and
kimage reports, on each sample, the findings its manifest promises."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from validator import checker, seedcorpus
from validator.formats.arm64_image.samples import arm64_bytes, arm64_header
from validator.formats.deb.samples import DEB_MUTATIONS
from validator.formats.elf import EM_PPC64
from validator.formats.elf.writer import elf64
from validator.formats.ppc64_head.samples import _ppc64_head_bytes

pytestmark = pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="dpkg-deb not installed")


def dpkg_deb(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("seed", range(6))  # seeds 0..5 draw both arm64 and ppc64 kernels
def test_a_valid_sample_is_a_package_dpkg_installs(seed, tmp_path):
    sample = seedcorpus.generate("deb", seedcorpus.RandomChooser(seed), valid=True)
    deb = tmp_path / "k.deb"
    deb.write_bytes(sample.data)
    release, path = sample.params["release"], sample.params["kernel_path"]

    info = dpkg_deb("--info", str(deb))
    assert info.returncode == 0, info.stderr
    assert f"Package: linux-image-{release}" in info.stdout
    assert f"Architecture: {sample.params['arch']}" in info.stdout

    listing = dpkg_deb("-c", str(deb))
    assert listing.returncode == 0, listing.stderr
    names = [line.split()[-1] for line in listing.stdout.splitlines()]
    assert names == ["./", "./boot/", f"./boot/config-{release}", path]

    root = tmp_path / "root"
    extract = dpkg_deb("-x", str(deb), str(root))
    assert extract.returncode == 0, extract.stderr
    installed = (root / path).read_bytes()
    # the inner kernel's bytes, as the arm64-image / ppc64-elf builders make them from
    # the drawn parameters, with its magic where the format puts it
    p = sample.params
    if p["inner"] == "arm64-image":
        assert installed == arm64_bytes(arm64_header(p), p)
        assert path.startswith("./boot/vmlinuz-") and installed[0x38:0x3C] == b"ARMd"
    else:
        head = _ppc64_head_bytes(seedcorpus.RandomChooser(0), p, None)  # no draw unmutated
        assert installed == elf64(head, endian=p["endian"], machine=EM_PPC64)
        assert path.startswith("./boot/vmlinux-") and installed[:4] == b"\x7fELF"
        assert installed[0x12:0x14] in (b"\x00\x15", b"\x15\x00")  # e_machine EM_PPC64
    assert f"Linux/{'arm64' if 'vmlinuz' in path else 'powerpc'} {release}".encode() in (
        root / f"boot/config-{release}").read_bytes()

    # kimage judges the kernel dpkg installed, and reads the packaged config beside it
    in_deb = checker.check_image(deb, checker.Options())
    tar = next(layer for layer in in_deb.layers if layer.kind == "tar")
    assert tar.details["member"] == path and tar.details["member_size"] == len(installed)
    assert tar.details["config_member"] == f"./boot/config-{release}"
    serious = {f.rule for f in in_deb.findings if f.severity != "info"}
    assert serious <= set(sample.expect), sorted(serious)
    assert set(sample.expect) <= {f.rule for f in in_deb.findings}


@pytest.mark.parametrize("mutation", sorted(DEB_MUTATIONS))
def test_each_near_valid_sample_gets_its_finding(mutation, tmp_path):
    sample = seedcorpus.generate("deb", seedcorpus.RandomChooser(mutation), mutation=mutation)
    deb = tmp_path / "k.deb"
    deb.write_bytes(sample.data)
    found = {f.rule for f in checker.check_image(deb, checker.Options()).findings}
    assert set(sample.expect) <= found and sample.expect, (sample.expect, sorted(found))
    release = sample.params["release"]
    listing = dpkg_deb("-c", str(deb))
    if mutation == "no-kernel":  # dpkg reads it; it installs no kernel
        assert listing.returncode == 0, listing.stderr
        assert not any("/vmlinu" in line for line in listing.stdout.splitlines())
    elif mutation == "kernel-symlink-outside":  # the kernel's path is a link out of it
        assert listing.returncode == 0, listing.stderr
        assert f"{sample.params['kernel_path']} -> /usr/lib/linux/" in listing.stdout
    elif mutation in ("metapackage", "kernel-companions"):  # dpkg reads it; no kernel
        assert listing.returncode == 0, listing.stderr
        assert not any("/vmlinu" in line for line in listing.stdout.splitlines())
        files = [line.split()[-1] for line in listing.stdout.splitlines()
                 if line.startswith("-")]
        if mutation == "metapackage":
            assert files and all(f.startswith("./usr/share/") for f in files), files
        else:
            assert f"./usr/lib/modules/{release}/config" in files, files
        # no loader is asked to load it: n/a everywhere, never REJECTS
        verdicts = checker.check_image(deb, checker.Options()).loaders
        assert {v["verdict"] for v in verdicts.values()} == {"n/a"}, verdicts
    else:  # no data member, or one cut short: dpkg-deb refuses the package
        assert listing.returncode != 0
    assert release in sample.params["kernel_path"]


def test_the_seeds_above_draw_both_kernels():
    inner = {seedcorpus.generate("deb", seedcorpus.RandomChooser(seed), valid=True)
             .params["inner"] for seed in range(6)}
    assert inner == {"arm64-image", "ppc64-elf"}


def test_the_ar_layer_is_what_dpkg_deb_build_writes(tmp_path):
    """The ar member headers are byte for byte those of ``dpkg-deb --build`` (same mtime
    through SOURCE_DATE_EPOCH): name, mtime, uid, gid, mode; sizes aside."""
    import os

    from validator.formats.deb.samples import MTIME

    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: x\nVersion: 1\nArchitecture: arm64\nMaintainer: a <a@b>\nDescription: x\n")
    built = subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(tmp_path / "x.deb")],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "SOURCE_DATE_EPOCH": str(MTIME)})
    assert built.returncode == 0, built.stderr
    real = (tmp_path / "x.deb").read_bytes()
    ours = seedcorpus.generate("deb", seedcorpus.RandomChooser(0), valid=True).data

    def headers(data: bytes) -> list[bytes]:
        out, pos = [], 8
        while pos < len(data):
            head = data[pos:pos + 60]
            size = int(head[48:58])
            out.append(head[:48] + head[58:])  # all but the size
            pos += 60 + size + (size & 1)
        return out

    assert real[:8] == ours[:8] == b"!<arch>\n"
    assert headers(ours) == headers(real)
    assert ours[68:72] == real[68:72] == b"2.0\n"
