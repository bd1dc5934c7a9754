"""``kimage preflight`` on riscv64 hosts with the Debian 13 riscv64 Image.

Host: tests/sysroots/debian13-riscv64 (Debian 13's 6.12 kernel, crashkernel=256M at
0xc0000000, unstable's kexec-tools 2.0.32: Debian 13 builds none for riscv64, and no
kdump-tools) and variants made here. Where the crash kernel lands is checked against the
real kexec-tools 2.0.32 for riscv64 under qemu-riscv64 (loadertruth/kexec_riscv.py, whose
fixture has the same region): the address kexec -p prints is the expected value.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from loadertruth import kexec_riscv
from tests.conftest import ROOT

SYSROOT = ROOT / "tests" / "sysroots" / "debian13-riscv64"
REAL = "debian-6.12.117+deb13-riscv64"
CRASH = 0xC0000000  # tests/sysroots/debian13-riscv64/proc/iomem "Crash kernel"


def preflight(image, sysroot, *options) -> tuple[int, dict]:
    p = subprocess.run([sys.executable, "-m", "validator", "preflight", str(image),
                        "--sysroot", str(sysroot), "--format", "json", *options],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode in (0, 1) and p.stderr == "", p.stderr
    return p.returncode, json.loads(p.stdout)


def steps(doc: dict) -> dict[str, dict]:
    return {s["step"]: s for s in doc["steps"]}


def placed(step: dict, name: str) -> int:
    value = next(e["value"] for e in step["evidence"] if e["file"] == f"placed:{name}")
    return int(value.split(",")[0], 16)


@pytest.fixture(scope="module")
def kernel(real_images) -> Path:
    return real_images[REAL]


def test_the_debian_image_passes_on_its_host(kernel):
    from validator.preflight import SCHEMA

    code, doc = preflight(kernel, SYSROOT)
    jsonschema.validate(doc, SCHEMA)
    assert code == 0 and doc["verdict"] == "pass", doc
    s = steps(doc)
    assert s["arch"]["status"] == "pass"
    assert s["path"]["status"] == "pass"  # kexec_file_load ENOSYS (no KEXEC_FILE), kexec_load
    # the region's start, already a multiple of text_offset (2 MiB): image-riscv's base
    assert placed(s["fit"], "kernel") == CRASH


def test_too_small_a_region_does_not_fit(kernel, tmp_path):
    """24 MiB cannot hold image_size (30.4 MiB): riscv_find_pbase's 'Could not find a
    memory region for the provided Image'."""
    root = tmp_path / "small"
    shutil.copytree(SYSROOT, root)
    (root / "proc/iomem").write_text((SYSROOT / "proc/iomem").read_text().replace(
        "c0000000-cfffffff : Crash kernel", "c0000000-c17fffff : Crash kernel"))
    (root / "sys/kernel/kexec_crash_size").write_text("25165824\n")
    (root / "proc/cmdline").write_text((SYSROOT / "proc/cmdline").read_text().replace(
        "crashkernel=256M", "crashkernel=24M"))
    code, doc = preflight(kernel, root)
    assert code == 1
    fit = steps(doc)["fit"]
    assert fit["status"] == "fail" and fit["rule"] == "preflight/does-not-fit", fit


@pytest.mark.skipif(not kexec_riscv.available()[0],
                    reason=f"kexec-tools (riscv64) not runnable: {kexec_riscv.available()[1]}")
def test_the_crash_kernel_lands_where_the_real_kexec_puts_it(kernel):
    real = kexec_riscv.run("kexec-tools-crash", kernel, REAL)
    assert real.accept, real.message
    _, doc = preflight(kernel, SYSROOT)
    assert placed(steps(doc)["fit"], "kernel") == real.observed["kernel_addr"]


@pytest.mark.parametrize("release, falls_back", [("6.12.117+deb13-riscv64", True),
                                                 ("6.16.1-riscv64", False)])
def test_kexec_file_load_takes_the_image_from_6_16(kernel, tmp_path, release, falls_back):
    """With CONFIG_KEXEC_FILE, kexec -p (2.0.32: kexec_file_load first) gets ENOEXEC from a
    6.12 kernel, whose riscv kexec_file_loaders[] has only the ELF loader, and falls back
    to kexec_load; a 6.16 kernel loads the Image itself (809a11eea8e8)."""
    root = tmp_path / "host"
    shutil.copytree(SYSROOT, root)
    config = (SYSROOT / "boot/config-6.12.117+deb13-riscv64").read_text().replace(
        "# CONFIG_KEXEC_FILE is not set", "CONFIG_KEXEC_FILE=y")
    (root / "boot/config-6.12.117+deb13-riscv64").unlink()
    (root / f"boot/config-{release}").write_text(config)
    (root / "proc/sys/kernel/osrelease").write_text(release + "\n")
    code, doc = preflight(kernel, root)
    assert code == 0, doc
    message = steps(doc)["path"]["message"]
    assert ("ENOEXEC → falls back to kexec_load" in message) == falls_back, message
