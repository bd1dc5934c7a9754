"""Kernel RPMs built by the real rpmbuild (corpus/rpm/make.sh: Fedora's kernel-core
layout and the /boot layout, zstd, xz and gzip payloads, around Debian's real kernels as
the corpus keeps them), checked as built. Every expected value comes from rpm's own tools
and the unpacked files: ``rpm -qp --qf`` (tags), ``rpm2cpio | cpio -t`` (the payload's
order) and ``cpio -i`` (the kernel and config as installed; the banner with ``grep -a``),
``file`` (the kernel's kind; an x86 kernel's version string) and GNU time (peak memory);
never from kimage.

The packages are built once into build/rpm (never committed); the tests skip, saying
why, when rpmbuild is missing (``apt-get install rpm``; ``make test`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from validator import checker

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "rpm"
TOOLS = ("rpmbuild", "rpm", "rpm2cpio", "cpio", "file")
#: file(1)'s words for each kernel kind, and kimage's format for it.
KINDS = {"Linux kernel x86 boot executable bzImage": "x86-bzimage",
         "Linux kernel ARM64 boot executable Image": "arm64-image",
         "ELF 64-bit LSB executable, 64-bit PowerPC": "ppc64-head"}


def _packages() -> list[Path]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install rpm cpio file)")
    have = sorted(OUT.glob("kernel*.rpm"))
    if len(have) < 5:
        run = subprocess.run(["sh", str(ROOT / "corpus" / "rpm" / "make.sh"), str(OUT)],
                             capture_output=True, text=True, timeout=600)
        if run.returncode:
            pytest.skip(f"corpus/rpm/make.sh failed: {run.stderr.strip()[-300:]}")
        have = sorted(OUT.glob("kernel*.rpm"))
    return have


@pytest.fixture(scope="module")
def packages():
    return _packages()


def _qf(path: Path, fmt: str) -> str:
    return subprocess.run(["rpm", "-qp", "--qf", fmt, str(path)], capture_output=True,
                          text=True, check=True, timeout=60).stdout


class Unpacked:
    """The package as rpm's tools see it."""

    def __init__(self, path: Path, tmp: Path):
        tags = _qf(path, "%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{PAYLOADCOMPRESSOR}")
        self.tags = dict(zip(("name", "version", "release", "arch", "codec"),
                             tags.split("|"), strict=True))
        listing = subprocess.run(f"rpm2cpio '{path}' | cpio -it --quiet", shell=True,
                                 capture_output=True, text=True, check=True, timeout=120)
        self.order = [line.removeprefix("./") for line in listing.stdout.split()]
        self.kernel = next(p for p in self.order if p.endswith("/vmlinuz")
                           or p.startswith("boot/vmlinu"))
        self.root = tmp / "root"
        self.root.mkdir()
        subprocess.run(f"rpm2cpio '{path}' | cpio -idm --quiet './{self.kernel}' "
                       f"'./*config*'", shell=True, cwd=self.root, check=True, timeout=120)
        kfile = self.root / self.kernel
        self.size = kfile.stat().st_size
        self.kind = subprocess.run(["file", "-b", str(kfile)], capture_output=True,
                                   text=True, check=True).stdout
        grep = subprocess.run(["grep", "-a", "-o", "-m1", "-E",
                               r"Linux version [0-9]+\.[0-9]+[^ ]* \(", str(kfile)],
                              capture_output=True, text=True)
        # an x86 bzImage's banner is compressed inside it: file(1) prints the setup
        # header's version string instead
        words = grep.stdout.split() or self.kind.split("version ", 1)[1].split()
        self.banner = words[2] if grep.stdout else words[0]
        configs = [p for p in self.order if p.endswith("/config") or "/config-" in p]
        self.config = (self.root / configs[0]).read_bytes()


@pytest.mark.parametrize("index", range(5))
def test_a_real_rpm_is_read_as_rpm_reads_it(packages, index, tmp_path):
    path = packages[index]
    real = Unpacked(path, tmp_path)
    result = checker.check_image(path, checker.Options())
    rpm, codec, cpio = result.layers[:3]
    assert (rpm.kind, codec.kind, cpio.kind) == ("rpm", real.tags["codec"], "cpio")
    d = rpm.details
    assert (d["package"], d["package_version"], d["architecture"]) == (
        real.tags["name"], f"{real.tags['version']}-{real.tags['release']}", real.tags["arch"])
    assert cpio.details["member"] == real.kernel
    assert cpio.details["member_size"] == real.size
    assert result.facts["kernel_version"] == real.banner
    assert result.companions["config"] == real.config
    expected = next(fmt for words, fmt in KINDS.items() if real.kind.startswith(words))
    assert result.format == expected
    assert not [f for f in result.findings if f.severity == "error"], result.findings


def test_the_payload_is_read_only_as_far_as_the_kernel(packages, tmp_path):
    """The ppc64le package's payload: boot/ first, then an 80 MiB module (rpm2cpio's
    order), more than kimage's 64 MiB cap on one stream. check reads it without a
    limit finding, stops at the kernel and stays under 64 MiB of memory."""
    path = next(p for p in packages if p.name.endswith(".ppc64le.rpm"))
    real = Unpacked(path, tmp_path)
    assert real.order.index(real.kernel) < len(real.order) - 1  # modules after it
    total = int(subprocess.run(f"rpm2cpio '{path}' | wc -c", shell=True, capture_output=True,
                               text=True, check=True).stdout)
    assert total > 64 << 20
    result = checker.check_image(path, checker.Options())
    assert not {f.rule for f in result.findings} & {"layer/decompression-limit",
                                                     "layer/decoded-in-part"}
    assert result.layers[2].details["complete"] is False
    assert "decoded_size" not in result.layers[1].details  # not decoded to its end
    if shutil.which("/usr/bin/time") is None and not os.path.exists("/usr/bin/time"):
        pytest.skip("GNU time not installed")
    run = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "validator",
                          "check", str(path)], capture_output=True, text=True, timeout=300)
    peak_kib = int(run.stderr.strip().splitlines()[-1])
    assert peak_kib < 64 * 1024, peak_kib


REAL = ROOT / "build" / "rpm-real"


def test_debians_whole_package_as_a_kernel_core_is_walked_to_its_last_member(tmp_path):
    """Debian's whole linux-image (build/deb, as tests/test_deb_real.py fetches it)
    repackaged by rpmbuild as a Fedora kernel-core: about 5000 members, 350 MiB decoded,
    the kernel last. Built on request only (two minutes): ``sh corpus/rpm/make.sh
    build/rpm-real real build/deb/linux-image-*.deb``."""
    have = sorted(REAL.glob("kernel-core-*real*.rpm"))
    if not have or shutil.which("rpm2cpio") is None:
        pytest.skip("no build/rpm-real/kernel-core-*real*.rpm (sh corpus/rpm/make.sh "
                    "build/rpm-real real build/deb/linux-image-VERSION-arm64_*.deb)")
    path = have[-1]
    real = Unpacked(path, tmp_path)
    assert real.order[-1] == real.kernel
    run = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "validator",
                          "check", "--format", "json", str(path)], capture_output=True,
                         text=True, timeout=600)
    assert int(run.stderr.strip().splitlines()[-1]) < 64 * 1024  # peak KiB
    result = checker.check_image(path, checker.Options())
    cpio = result.layers[2].details
    assert (cpio["members_seen"], cpio["member"], cpio["member_size"]) == (
        len(real.order), real.kernel, real.size)
    assert result.facts["kernel_version"] == real.banner
    assert result.companions["config"] == real.config
    assert result.format == "arm64-image"
    assert not {f.rule for f in result.findings} & {"layer/decompression-limit",
                                                     "layer/decoded-in-part"}


def test_preflight_and_qemu_judge_the_kernel_a_package_carries(packages):
    """As for a .deb: the loaders judge the kernel inside (qemu unwraps no package, the
    package's layers are not the kernel file's), and preflight says kexec is given a
    kernel file, not a package."""
    path = next(p for p in packages if p.name.endswith(".aarch64.rpm"))
    result = checker.check_image(path, checker.Options())
    assert "layer/not-unwrapped" not in {f.rule for f in result.findings}
    run = subprocess.run([sys.executable, "-m", "validator", "preflight", str(path),
                          "--sysroot", str(ROOT / "tests" / "sysroots" / "fedora-arm64")],
                         capture_output=True, text=True, timeout=300)
    assert "a package (rpm): kexec reads a kernel file" in run.stdout, run.stdout
