"""``kimage preflight`` on x86-64 hosts with the Debian 6.1 amd64 kernel.

Hosts: tests/sysroots/debian12-amd64 (crashkernel=512M below 4 GiB) and variants of it
made here. Where the crash kernel lands is checked against the real kexec-tools 2.0.25
for amd64 under qemu-x86_64 (loadertruth/kexec_x86.py, its fixture's 256 MiB region at
0x30000000): the address kexec -p prints is the expected value. The rest comes from the
sources the modules cite (kexec-tools kexec/arch/i386/kexec-bzImage.c, Linux
arch/x86/boot/compressed/head_64.S).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from loadertruth import kexec_x86
from tests.conftest import ROOT

SYSROOTS = ROOT / "tests" / "sysroots"
REAL = "debian-6.1.0-50-amd64"


def preflight(image, sysroot, *options) -> tuple[int, dict]:
    p = subprocess.run([sys.executable, "-m", "validator", "preflight", str(image),
                        "--sysroot", str(sysroot), "--format", "json", *options],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode in (0, 1) and p.stderr == "", p.stderr
    return p.returncode, json.loads(p.stdout)


def steps(doc: dict) -> dict[str, dict]:
    """The steps of the loader the report chose (or the one --loader named)."""
    return {s["step"]: s for s in doc["steps"]}


def host(tmp_path: Path, name: str, **files: str) -> Path:
    root = tmp_path / name
    shutil.copytree(SYSROOTS / "debian12-amd64", root)
    for rel, text in files.items():
        (root / rel.replace("__", "/")).write_text(text)
    return root


def placed(step: dict, name: str) -> int:
    value = next(e["value"] for e in step["evidence"] if e["file"] == f"placed:{name}")
    return int(value.split(",")[0], 16)


@pytest.fixture(scope="module")
def kernel(real_images) -> Path:
    return real_images[REAL]


@pytest.fixture(scope="module")
def variant(kernel, tmp_path_factory):
    out = tmp_path_factory.mktemp("x86-variants")
    data = kernel.read_bytes()

    def make(name: str) -> Path:
        path = out / name
        if not path.exists():
            path.write_bytes(kexec_x86.variants(data)[name][1])
        return path
    return make


def test_debian12_amd64_host_passes_with_both_loaders(kernel):
    rc, doc = preflight(kernel, SYSROOTS / "debian12-amd64")
    assert rc == 0 and doc["verdict"] == "pass"
    assert doc["host"]["arch"] == "x86_64"
    region = doc["host"]["crash_region"]
    assert (region["base"], region["size"]) == (0x5F000000, 512 << 20)
    s = steps(doc)
    assert s["relocatable"]["status"] == s["fit"]["status"] == "pass"
    kernel_at = placed(s["fit"], "kernel")
    assert kernel_at % 0x200000 == 0 and 0x5F000000 <= kernel_at < 0x7F000000
    for loader in ("kexec-tools", "kexec-file"):
        _, one = preflight(kernel, SYSROOTS / "debian12-amd64", "--loader", loader)
        assert one["verdict"] == "pass", (loader, one["steps"])


FIXTURE_IOMEM = "".join(f"{a:08x}-{b:08x} : {t}\n" for a, b, t in kexec_x86.RAM) + (
    f"  {kexec_x86.CRASH[0]:08x}-{kexec_x86.CRASH[1]:08x} : Crash kernel\n")


@pytest.mark.skipif(not kexec_x86.available()[0], reason=f"kexec-tools (amd64) not "
                    f"runnable: {kexec_x86.available()[1]}")
@pytest.mark.parametrize("name", ["original", "xlf-0"])
def test_kexec_tools_places_the_kernel_where_the_real_one_does(name, variant, tmp_path):
    """bzImage64 (top down under the segments before it) and the 32-bit loader (as low as
    it fits) in the loader-truth fixture's region: kimage's kernel address is the one the
    real kexec -p printed."""
    image = variant(name)
    real = kexec_x86.run("kexec-tools-crash", image, name)
    assert real.accept, real.message
    root = host(tmp_path, "fixture", proc__iomem=FIXTURE_IOMEM,
                sys__kernel__kexec_crash_size=str(kexec_x86.CRASH[1] - kexec_x86.CRASH[0] + 1))
    _, doc = preflight(image, root, "--loader", "kexec-tools")
    assert placed(steps(doc)["fit"], "kernel") == real.observed["kernel_addr"]


def test_high_region_takes_a_bzimage64_and_not_the_32_bit_loader(kernel, variant, tmp_path):
    """crashkernel=1G,high: crashk_res above 4 GiB (the ,low range is for DMA). The
    32-bit bzImage loader places the kernel below DEFAULT_BZIMAGE_ADDR_MAX (0x37ffffff)."""
    iomem = (SYSROOTS / "debian12-amd64/proc/iomem").read_text().replace(
        "  5f000000-7effffff : Crash kernel\n", "  6f000000-7effffff : Crash kernel\n"
    ).replace("100000000-27fffffff : System RAM\n",
              "100000000-27fffffff : System RAM\n  23f000000-27effffff : Crash kernel\n")
    root = host(tmp_path, "high", proc__iomem=iomem,
                proc__cmdline="root=/dev/sda1 ro crashkernel=1G,high\n",
                sys__kernel__kexec_crash_size=str(1 << 30))
    _, doc = preflight(kernel, root, "--loader", "kexec-tools")
    region = doc["host"]["crash_region"]
    assert region["base"] == 0x23F000000
    assert region["others"] == [{"start": 0x6F000000, "end": 0x7EFFFFFF}]
    assert steps(doc)["fit"]["status"] == "pass"
    assert placed(steps(doc)["fit"], "kernel") > 1 << 32
    assert "crashkernel=" in steps(doc)["reservation"]["message"]
    assert ",high" in steps(doc)["reservation"]["message"]
    _, doc = preflight(variant("xlf-0"), root, "--loader", "kexec-tools")
    fit = steps(doc)["fit"]
    assert fit["status"] == "fail" and fit["rule"] == "preflight/does-not-fit"
    assert "0x38000000" in fit["message"]


def test_a_kernel_that_is_not_relocatable_fails(variant):
    """kexec -p takes relocatable-0 through bzImage64 (the real one does), but the kernel
    decompresses itself to LOAD_PHYSICAL_ADDR: over the crashed kernel. Through the 32-bit
    loader kexec -p refuses it outright."""
    for name, words in (("relocatable-0", "LOAD_PHYSICAL_ADDR"),
                        ("relocatable-0-xlf-0", "Can't be used as capture kernel")):
        rc, doc = preflight(variant(name), SYSROOTS / "debian12-amd64", "--loader",
                            "kexec-tools")
        step = steps(doc)["relocatable"]
        assert rc == 1 and step["status"] == "fail", (name, step)
        assert step["rule"] == "preflight/not-relocatable" and words in step["message"]


def test_a_zimage_is_not_loadable(variant):
    rc, doc = preflight(variant("loadflags-0"), SYSROOTS / "debian12-amd64")
    assert rc == 1 and steps(doc)["image"]["status"] == "fail"


def test_crashkernel_option_high_is_read_on_x86_64(kernel):
    _, doc = preflight(kernel, SYSROOTS / "debian12-amd64", "--crashkernel", "768M,high")
    assert doc["host"]["crash_region"]["source"] == "option"
    assert doc["host"]["crash_region"]["size"] == 768 << 20


def test_json_matches_its_schema(kernel):
    from validator.preflight import SCHEMA

    _, doc = preflight(kernel, SYSROOTS / "debian12-amd64")
    jsonschema.validate(doc, SCHEMA)


def test_the_fixture_is_an_x86_host():
    iomem = (SYSROOTS / "debian12-amd64/proc/iomem").read_text()
    assert "5f000000-7effffff : Crash kernel" in iomem
    assert (SYSROOTS / "debian12-amd64/proc/sys/kernel/arch").read_text() == "x86_64\n"


@pytest.mark.parametrize("script", [True, False])
def test_without_image_kdump_tools_names_the_capture_command(kernel, tmp_path, script):
    """Debian 12's kdump-tools on amd64: /var/lib/kdump/vmlinuz and its
    KDUMP_CMDLINE_APPEND, read from /usr/sbin/kdump-config or, without it, the value
    kdump-tools 1:1.8.1 builds in for amd64 (its debian/rules' default branch)."""
    root = host(tmp_path, "discover")
    (root / "var/lib/kdump").mkdir(parents=True)
    shutil.copy(kernel, root / "boot/vmlinuz-6.1.0-50-amd64")
    (root / "var/lib/kdump/vmlinuz").symlink_to("/boot/vmlinuz-6.1.0-50-amd64")
    if not script:
        (root / "usr/sbin/kdump-config").unlink()
    _, doc = _preflight_host(root)
    command = steps(doc)["command"]["message"]
    assert command.endswith("/var/lib/kdump/vmlinuz")
    assert ("quiet reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll "
            "usbcore.nousb\"") in command
    assert steps(doc)["fit"]["status"] == "pass"


def _preflight_host(root: Path) -> tuple[int, dict]:
    p = subprocess.run([sys.executable, "-m", "validator", "preflight", "--sysroot",
                        str(root), "--format", "json"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)
