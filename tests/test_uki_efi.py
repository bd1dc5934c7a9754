"""EDK2 (Debian 12's qemu-efi-aarch64 2022.11) with the UKIs of corpus/uki/make.sh as
\\EFI\\BOOT\\BOOTAA64.EFI, run by loadertruth.efi under qemu-system-aarch64: the firmware
starts systemd-stub, and the stub starts the kernel in .linux ("EFI stub: Booting Linux
Kernel..." is the kernel's own EFI stub). A .linux that systemd-stub's pe_kernel_info
refuses (no "MZ"; MajorImageVersion 0) is started by the firmware, the stub says
"src/boot/linux.c:120@linux_exec: Bad kernel image" and the kernel's stub never runs;
kimage's efi verdict is a reject for uki/linux-not-pe and uki/linux-stub-too-old.
Skipped with the reason where EDK2 or QEMU is missing or make.sh has not been run.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from loadertruth import efi
from validator.checker import Options, check_image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "uki" / "out"
UKIS = ("debian-image.efi", "zboot-gzip.efi")

pytestmark = [
    pytest.mark.skipif(not all((OUT / n).is_file() for n in UKIS),
                       reason="no UKIs in build/uki/out: run corpus/uki/make.sh"),
    pytest.mark.skipif(not efi.available("arm64")[0], reason=efi.available("arm64")[1]),
]


def linux_section(data: bytes) -> int:
    """The file offset of .linux (pefile, independent of kimage)."""
    pefile = pytest.importorskip("pefile")
    pe = pefile.PE(data=data, fast_load=True)
    return next(s.PointerToRawData for s in pe.sections if s.Name.rstrip(b"\0") == b".linux")


@pytest.mark.parametrize("name", UKIS)
def test_firmware_and_systemd_stub_start_the_kernel(name):
    seen = efi.run(OUT / name, name)
    assert seen.accept is True and seen.observed.get("stub_ran"), (seen.message,
                                                                   seen.log_tail)
    verdict = check_image(OUT / name, Options(loaders={"efi"})).loaders["efi"]
    assert verdict["verdict"] == "accept"


@pytest.mark.parametrize("fault,rule", [("no-mz", "uki/linux-not-pe"),
                                        ("stub-version-0", "uki/linux-stub-too-old")])
def test_systemd_stub_refuses_what_the_uki_rules_report(fault, rule, tmp_path, monkeypatch):
    data = bytearray((OUT / "zboot-gzip.efi").read_bytes())
    at = linux_section(bytes(data))
    if fault == "no-mz":
        data[at:at + 2] = b"\0\0"
    else:
        lfanew, = struct.unpack_from("<I", data, at + 0x3C)
        struct.pack_into("<H", data, at + lfanew + 24 + 44, 0)  # MajorImageVersion
    bad = tmp_path / f"{fault}.efi"
    bad.write_bytes(bytes(data))
    console: list[str] = []
    classify = efi.classify
    monkeypatch.setattr(efi, "classify", lambda lines: (console.extend(lines),
                                                        classify(lines))[1])
    seen = efi.run(bad, bad.name)
    assert seen.accept is True, seen.message  # the firmware starts the stub ...
    assert not seen.observed.get("stub_ran"), seen.log_tail  # ... which starts no kernel
    assert any("linux_exec: Bad kernel image" in line for line in console), console[-8:]
    result = check_image(bad, Options(loaders={"efi"}))
    assert rule in {f.rule for f in result.findings}
    assert result.loaders["efi"]["verdict"] == "reject"
    assert rule in result.loaders["efi"]["reasons"]


STUBS = ROOT / "build" / "uki" / "stubs"


@pytest.mark.parametrize("probe", ["252-dup", "254-dup", "257-dup", "257-zero",
                                   "unstable-dup", "unstable-zero"])
def test_the_cmdline_kimage_reports_is_the_one_the_stub_boots(probe):
    """Debian's systemd-stub 252, 254, 257 and unstable's (262 in December 2026) around
    the Debian kernel, with .cmdline "base" and two joined profiles "zero" and "one"
    (corpus/uki/make.sh): with every .profile renamed (three .cmdline sections, no
    profile) 252 and 254 boot the last, 257 on the first; with only the base's own
    .profile renamed, 257 on boot profile 0's. The kernel's "Kernel command line:" is
    the truth; kimage's reported .cmdline and stub version must match it."""
    image = STUBS / f"{probe}.efi"
    if not image.is_file():
        pytest.skip(f"{image} missing: corpus/uki/make.sh could not fetch that stub")
    release = probe.split("-")[0]
    if release == "unstable":  # the Debian version of the package it came from
        release = (STUBS / "unstable.version").read_text().strip().split(".")[0]
        assert int(release) >= 257, release
    booted = efi.kernel_cmdline(image)
    assert booted is not None, "the kernel printed no command line"
    result = check_image(image, Options(loaders={"efi"}))
    layer = next(layer for layer in result.layers if layer.kind == "uki").details
    assert layer["cmdline"] == booted
    assert layer["stub"].split(".")[0] == release
    expected = "one" if int(release) < 255 else "zero" if probe.endswith("-zero") else "base"
    assert booted.endswith(f"kimage.cmdline={expected}")


def test_a_stub_before_255_matches_section_names_by_prefix(monkeypatch):
    """252's stub compares a section's name over the wanted name's length only (src/boot/
    efi/pe.c locate_sections) and keeps the last match: the probe's .linuxIN (its .initrd,
    renamed, after .linux) is the kernel it starts, and it says "Bad kernel image"; kimage
    reports uki/linux-not-pe and efi rejects. 257 and unstable's match names exactly and
    boot the same file around it."""
    old, new = STUBS / "252-prefix.efi", STUBS / "257-prefix.efi"
    if not (old.is_file() and new.is_file()):
        pytest.skip("stub probes missing: corpus/uki/make.sh could not fetch the stubs")
    newer = [p for p in (new, STUBS / "unstable-prefix.efi") if p.is_file()]
    console: list[str] = []
    classify = efi.classify
    monkeypatch.setattr(efi, "classify", lambda lines: (console.extend(lines),
                                                        classify(lines))[1])
    seen = efi.run(old, old.name)
    assert seen.accept is True and not seen.observed.get("stub_ran"), seen.log_tail
    assert any("Bad kernel image" in line for line in console), console[-8:]
    verdict = check_image(old, Options(loaders={"efi"})).loaders["efi"]
    assert verdict["verdict"] == "reject" and "uki/linux-not-pe" in verdict["reasons"]
    monkeypatch.undo()
    for image in newer:
        assert efi.kernel_cmdline(image).endswith("kimage.cmdline=base"), image.name
        verdict = check_image(image, Options(loaders={"efi"})).loaders["efi"]
        assert verdict["verdict"] == "accept", image.name
