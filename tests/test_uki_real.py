"""UKIs made by Debian 13's ukify and arm64 systemd-stub from real kernels
(corpus/uki/make.sh: the Debian linux-image Image, the cross-built zboot gzip and zstd
and Image.gz of corpus/kernels), against what ukify itself and objdump say of them.

Expected values: ``ukify inspect --json=short`` (written beside each file by make.sh),
pefile (section file offsets and sizes; the host's objdump has no pei-aarch64 target) and
the kernel's own bytes as the .deb holds them (dpkg-deb). Skipped, with the reason, where
make.sh has not been run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from validator.checker import Options, check_image
from validator.pipeline import analyse

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "uki" / "out"
NAMES = ("debian-image.efi", "zboot-gzip.efi", "zboot-zstd.efi", "image-gz.efi")

pytestmark = pytest.mark.skipif(not all((OUT / n).is_file() for n in NAMES),
                                reason="no UKIs in build/uki/out: run corpus/uki/make.sh")


def inspect(name: str) -> dict:
    return json.loads((OUT / f"{name}.inspect.json").read_text())


def pe_sections(path: Path) -> dict[str, tuple[int, int]]:
    """name -> (file offset, MIN(SizeOfRawData, VirtualSize)) from pefile, first of each
    name."""
    pefile = pytest.importorskip("pefile")
    pe = pefile.PE(str(path), fast_load=True)
    out: dict[str, tuple[int, int]] = {}
    for s in pe.sections:
        name = s.Name.rstrip(b"\0").decode()
        out.setdefault(name, (s.PointerToRawData, min(s.SizeOfRawData, s.Misc_VirtualSize)))
    pe.close()
    return out


def uki_layer(result) -> dict:
    layers = [layer for layer in result.layers if layer.kind == "uki"]
    assert len(layers) == 1, [layer.kind for layer in result.layers]
    return layers[0].details


@pytest.mark.parametrize("name", NAMES)
def test_uki_facts_are_what_ukify_wrote(name):
    result = analyse(OUT / name)
    d = uki_layer(result)
    sections = inspect(name)
    assert d["cmdline"] == sections[".cmdline"]["text"]
    assert d["uname"] == sections[".uname"]["text"]
    osrel = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', sections[".osrel"]["text"], re.M))
    assert d["os_release"]["ID"] == osrel["ID"] == "debian"
    assert d["os_release"]["VERSION_ID"] == osrel["VERSION_ID"] == "13"
    assert d["initrd_size"] == sections[".initrd"]["size"]
    assert (d["dtb"] is not None) == (".dtb" in sections)
    if ".dtb" in sections:
        assert d["dtb"]["size"] == sections[".dtb"]["size"] and d["dtb"]["fdt_magic"]
    sbat = [line.split(",")[:2] for line in sections[".sbat"]["text"].splitlines() if line]
    assert d["sbat"] == sbat and ["systemd-stub", "1"] in sbat
    # the stub's version: its .sdmagic as pefile reads it, and Debian's entry in .sbat
    offset, size = pe_sections(OUT / name)[".sdmagic"]
    with open(OUT / name, "rb") as f:
        f.seek(offset)
        magic = f.read(size).decode()
    assert d["stub"] == re.fullmatch(r"#### LoaderInfo: systemd-stub (\S+) ####\0*",
                                     magic).group(1)
    debian = next(line.split(",") for line in sections[".sbat"]["text"].splitlines()
                  if line.startswith("systemd-stub.debian,"))
    assert d["stub"] == debian[4] and "profiles" not in d


@pytest.mark.parametrize("name", NAMES)
def test_the_kernel_is_the_linux_section(name):
    """The view handed on is .linux as pefile places it; the inner kernel decodes with
    its own facts and no false alarm (the former false arm64/bad-magic)."""
    result = check_image(OUT / name, Options())
    offset, size = pe_sections(OUT / name)[".linux"]
    assert size == inspect(name)[".linux"]["size"]
    inner = next(layer for layer in result.layers if layer.kind == "uki")
    assert result.layers[0] is inner
    rules = {f.rule for f in result.findings}
    assert "layer/uki" in rules
    assert not {r for r in rules if r.startswith("arm64/")}, rules
    assert not [f for f in result.findings if f.severity != "info"], result.findings
    assert result.format == "arm64-image"
    assert result.facts["page_size"] == 4096 and result.facts["efi_stub"] is True
    if name.startswith("zboot"):
        assert [layer.kind for layer in result.layers][:2] == ["uki", "zboot"]
        assert result.facts["compression"] == name.split("-")[1].split(".")[0]
    else:
        assert result.header_offset == offset  # the Image itself, in place
        assert result.facts["compression"] is None


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb missing")
def test_the_debian_kernel_in_the_uki_is_the_packaged_one(tmp_path):
    """.linux of debian-image.efi is byte for byte the vmlinuz of the .deb (dpkg-deb),
    and the banner's release is .uname's (no uki/uname-mismatch)."""
    deb = sorted((ROOT / "build" / "deb").glob("linux-image-*_arm64.deb"))[0]
    release = deb.name.split("_")[0][len("linux-image-"):]
    raw = subprocess.run(f"dpkg-deb --fsys-tarfile '{deb}' | tar -xO ./boot/vmlinuz-{release}",
                         shell=True, capture_output=True, timeout=120, check=True).stdout
    offset, _ = pe_sections(OUT / "debian-image.efi")[".linux"]
    with open(OUT / "debian-image.efi", "rb") as f:
        f.seek(offset)
        assert f.read(len(raw)) == raw
    result = check_image(OUT / "debian-image.efi", Options())
    assert result.facts["kernel_version"] == release == uki_layer(result)["uname"]
    assert result.payload_size is None or result.payload_size >= len(raw)
    assert "uki/uname-mismatch" not in {f.rule for f in result.findings}


def test_verdicts_for_a_uki():
    """Firmware with systemd-stub and GRUB 2.12 start it; kexec_file_load, U-Boot booti and
    QEMU's -kernel refuse it (no ARM\\x64 at 0x38); kexec-tools through kexec_load takes
    the zboot UKI from 2.0.30 and refuses the Image UKI (tests/test_uki_loaders.py runs
    2.0.32)."""
    image = check_image(OUT / "debian-image.efi", Options()).loaders
    zboot = check_image(OUT / "zboot-gzip.efi", Options()).loaders
    for verdicts in (image, zboot):
        assert verdicts["efi"]["verdict"] == "accept"
        assert verdicts["grub"]["verdict"] == "accept"
        assert [r["from"] for r in verdicts["grub"]["by_version"]] == ["2.06"]
        for name in ("kexec-file", "u-boot", "qemu"):
            assert verdicts[name]["verdict"] == "reject", name
        assert "layer/uki" in verdicts["kexec-file"]["reasons"]
        assert "layer/uki" in verdicts["u-boot"]["reasons"]
    assert image["kexec-tools"]["verdict"] == "reject"
    assert image["kexec-tools"]["reasons"] == ["layer/uki"]
    assert zboot["kexec-tools"]["verdict"] == "accept"
    assert [(r["from"], r["to"]) for r in zboot["kexec-tools"]["by_version"]] == [
        ("2.0.25", "2.0.29")]


def test_a_uname_that_is_not_the_kernels():
    """wrong-uname.efi: ukify told --uname 6.1.0-99-arm64 for a 6.1.176 kernel (its banner,
    corpus/kernels/arm64-4k-le-zboot-gzip/expected.json)."""
    expected = json.loads((ROOT / "corpus/kernels/arm64-4k-le-zboot-gzip/expected.json")
                          .read_text())
    assert '"kernel_version": "6.1.176"' in json.dumps(expected)
    result = check_image(OUT / "wrong-uname.efi", Options())
    assert uki_layer(result)["uname"] == inspect("wrong-uname.efi")[".uname"]["text"]
    mismatch = [f for f in result.findings if f.rule == "uki/uname-mismatch"]
    assert len(mismatch) == 1 and mismatch[0].severity == "warning"
    assert "6.1.0-99-arm64" in mismatch[0].message and "6.1.176" in mismatch[0].message


def test_make_sh_leaves_nothing_in_the_callers_tmpdir(tmp_path):
    """ukify writes the decompressed copy of an Image.gz to a temporary file it never
    removes: make.sh gives it a TMPDIR of its own and removes that. Run with the caller's
    TMPDIR empty, make.sh leaves nothing in it (a 2.4 MB linux-decompressed* per run
    before)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    done = subprocess.run(["sh", str(ROOT / "corpus" / "uki" / "make.sh")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "is compressed and cannot be loaded by UEFI, decompressing" in done.stderr
    assert sorted(p.name for p in tmp.iterdir()) == []
    assert not list((ROOT / "build" / "uki").glob("tmp.*"))
