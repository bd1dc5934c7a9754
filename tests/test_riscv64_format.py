"""The riscv64 Image: spec and twin agree, each rule fires on what it describes and stays
quiet without it, loader verdicts follow the loaders' own code, the real Debian 6.12
Image is decoded with no false alarm, and kernels of other architectures are named, never
rejected.

Expected values come from boot-image-header.rst's layout, the loaders' sources
(kexec-tools v2.0.32 kexec/arch/riscv, Linux 6.16 arch/riscv/kernel/kexec_image.c,
U-Boot arch/riscv/lib/image.c, GRUB 2.06 and 2.12, validator/loaders/riscv.py names the
lines) and the real package's bytes (corpus/real/debian-6.12.117+deb13-riscv64, read with
struct one-liners by corpus/real/make_excerpts_riscv.py), not from kimage's output.
"""

from __future__ import annotations

import json
import struct

import pytest

from corpus.materialise import materialise
from tests.conftest import CORPUS
from validator import checker, kconfig, seedcorpus, sysmap
from validator._kaitai.riscv64_image import Riscv64Image
from validator.formats.elf import EM_RISCV
from validator.formats.elf.writer import elf64
from validator.formats.riscv64_image import samples
from validator.formats.riscv64_image import twin as riscv
from validator.formats.sampling import RandomChooser
from validator.report import _image as image_json
from validator.targets import parse_target

P = {"efi": True, "payload": 0x1000, "bss": 0x4000}
GOOD = samples.riscv_image(P)
CONFIG = ("# Linux/riscv 6.12.0 Kernel Configuration\nCONFIG_RISCV=y\nCONFIG_64BIT=y\n"
          "CONFIG_EFI=y\nCONFIG_EFI_STUB=y\n")
#: _end - _start = image_size of GOOD (0x40 + 0x200 + 0x1000 of file, 0x4000 of BSS)
SYMBOLS = ("ffffffff80000000 T _start\nffffffff80002000 T _text\n"
           "ffffffff80005240 B _end\n")
REAL = CORPUS / "real/debian-6.12.117+deb13-riscv64"


def fields(**changes) -> bytes:
    return samples.riscv_image(P, {**samples.riscv_fields(P), **changes})


def mutated(name: str, seed: int = 0) -> bytes:
    return samples._mutated(RandomChooser(seed), dict(P), name)


def run(data: bytes, tmp_path, **options):
    path = tmp_path / "Image"
    path.write_bytes(data)
    return checker.check_image(path, checker.Options(**options))


def _options(options: dict) -> dict:
    out = {}
    if "config" in options:
        out["config"] = kconfig.parse(options["config"])
    if "symbols" in options:
        out["symbols"] = sysmap.parse(options["symbols"])
    if "target" in options:
        out["target"] = parse_target(options["target"])
    return out


def test_header_layout_is_boot_image_header_rst():
    """The twin writes each field at the offset the kernel's document gives."""
    data = riscv.build({"code0": 1, "code1": 2, "text_offset": 3, "image_size": 4,
                        "flags": 5, "version": {"raw": 0x00010002}, "res1": 6, "res2": 7,
                        "magic": b"RISCV\0\0\0", "pe_offset": 0x40})
    assert len(data) == 64
    assert struct.unpack("<IIQQQIIQ8s4sI", data) == (
        1, 2, 3, 4, 5, 0x00010002, 6, 7, b"RISCV\0\0\0", b"RSC\x05", 0x40)
    h = riscv.parse(data)
    assert (h.version.major, h.version.minor) == (1, 2)


@pytest.mark.parametrize("seed", range(6))
def test_twin_and_generated_parser_agree_and_round_trip(seed):
    for mutation in (None, "image-size-zero", "big-endian", "version-too-old", "text-offset",
                     "old-magic", "pe-offset-invalid"):
        sample = seedcorpus.generate("riscv64-image", RandomChooser(seed),
                                     valid=mutation is None or None, mutation=mutation)
        head = sample.data[:64]
        t = riscv.parse(head)
        k = Riscv64Image.from_bytes(head)
        for name in ("code0", "code1", "text_offset", "image_size", "flags", "res1", "res2",
                     "pe_offset", "has_efi_stub", "is_big_endian", "has_magic"):
            assert getattr(t, name) == getattr(k, name), (mutation, name)
        assert (t.version.raw, t.version.major, t.version.minor) == (
            k.version.raw, k.version.major, k.version.minor)
        assert bytes(t.magic) == bytes(k.magic) and bytes(k.magic2) == b"RSC\x05"
        fields = {n: t[n] for n in riscv.SEQ_FIELDS if n != "magic2"}
        fields["version"] = {"raw": t.version.raw}
        assert riscv.build(fields) == head


CASES = {
    "riscv64/bad-magic": (mutated("bad-magic"), {}),
    "riscv64/truncated-header": (GOOD[:0x3E], {}),
    "riscv64/image-size-zero": (fields(image_size=0), {}),
    "riscv64/big-endian": (fields(flags=1), {}),
    "riscv64/image-size-implausible": (fields(image_size=1 << 32), {}),
    "riscv64/version-too-old": (fields(version={"raw": 1}), {}),
    "riscv64/text-offset-not-power-of-two": (fields(text_offset=0x300000), {}),
    "riscv64/image-size-smaller-than-file": (fields(image_size=0x200), {}),
    "riscv64/old-magic-missing": (fields(magic=bytes(8)), {}),
    "riscv64/no-efi-stub": (samples.riscv_image({**P, "efi": False}), {}),
    "riscv64/pe-offset-invalid": (fields(pe_offset=0x100), {}),
    "riscv64/pe-machine": (mutated("pe-machine"), {}),
    "riscv64/config-64bit-mismatch": (GOOD, {"config": CONFIG.replace("CONFIG_64BIT=y\n",
                                                                      "")}),
    "riscv64/config-efi-stub-mismatch": (
        GOOD, {"config": CONFIG.replace("CONFIG_EFI=y\nCONFIG_EFI_STUB=y\n",
                                        "# CONFIG_EFI is not set\n")}),
    "riscv64/symbols-image-size-mismatch": (
        GOOD, {"symbols": SYMBOLS.replace("80005240", "80006000")}),
    "elf/riscv64-vmlinux": (elf64(samples.riscv_image({**P, "efi": False}), endian="little",
                                  machine=EM_RISCV), {}),
}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_triggers_and_stays_quiet(rule_id, tmp_path):
    bad, options = CASES[rule_id]
    assert rule_id in run(bad, tmp_path, **_options(options)).reported_rules()
    good = {k: {"config": CONFIG, "symbols": SYMBOLS}[k] for k in options}
    clean = run(GOOD, tmp_path, **_options(good))
    assert clean.format == "riscv64-image"
    assert not {f.rule for f in clean.findings} - {"loader/not-supported"}


def verdicts(data: bytes, tmp_path, **options) -> dict:
    return image_json(run(data, tmp_path, **_options(options)))["loaders"]


#: What each loader's own code does with one field off (validator/loaders/riscv.py).
REFUSED_BY = {
    "riscv64/image-size-zero": {"kexec-tools", "kexec-file", "u-boot"},
    "riscv64/big-endian": {"kexec-tools", "kexec-file"},
    "riscv64/image-size-implausible": {"kexec-tools", "kexec-file", "u-boot"},
    "riscv64/version-too-old": {"kexec-tools"},
    "riscv64/bad-magic": {"kexec-tools", "kexec-file", "u-boot"},
    "riscv64/no-efi-stub": {"grub", "efi"},
    "riscv64/pe-machine": {"grub", "efi"},
    "riscv64/image-size-smaller-than-file": {"kexec-file"},
}


@pytest.mark.parametrize("rule_id", sorted(REFUSED_BY))
def test_loader_verdicts_follow_the_loaders_code(rule_id, tmp_path):
    bad, _ = CASES[rule_id]
    loaders = verdicts(bad, tmp_path)
    refusing = {name for name, v in loaders.items() if v["verdict"] == "reject"}
    assert refusing == REFUSED_BY[rule_id]
    for name in REFUSED_BY[rule_id]:
        assert rule_id in loaders[name]["reasons"]
    assert loaders["qemu"]["verdict"] == "n/a"


def test_a_good_image_by_release(tmp_path):
    """kexec-tools has a riscv port from 2.0.32, kexec_file_load an Image loader from 6.16,
    GRUB a riscv Linux loader from 2.12; U-Boot booti and firmware take it."""
    loaders = verdicts(GOOD, tmp_path)
    assert {n: v["verdict"] for n, v in loaders.items()} == {
        "kexec-tools": "accept", "kexec-file": "accept", "u-boot": "accept",
        "grub": "accept", "efi": "accept", "qemu": "n/a"}
    assert [(r["from"], r["to"], r["reasons"]) for r in loaders["kexec-tools"]["by_version"]] \
        == [("2.0.25", "2.0.31", ["loader/not-supported"])]
    assert [(r["from"], r["to"]) for r in loaders["kexec-file"]["by_version"]] == [
        ("6.1", "6.12")]
    assert [(r["from"], r["to"]) for r in loaders["grub"]["by_version"]] == [("2.06", "2.06")]
    one = image_json(run(GOOD, tmp_path, loaders=["kexec-file@6.12"]))["loaders"]
    assert one["kexec-file"]["verdict"] == "reject"


def test_kexec_file_tests_magic2_only_from_header_version_0_2(tmp_path):
    """Linux 6.16 image_probe compares magic2 only when version >= 0.2; kexec-tools'
    riscv_header_check_magic wants both."""
    data = bytearray(fields(version={"raw": 1}))
    data[0x38:0x3C] = b"\0\0\0\0"
    loaders = verdicts(bytes(data), tmp_path)
    assert loaders["kexec-file"]["verdict"] == "accept"
    assert loaders["kexec-tools"]["verdict"] == "reject"
    assert loaders["u-boot"]["verdict"] == "reject"


def test_a_vmlinux_elf_goes_to_kexec_only(tmp_path):
    loaders = verdicts(CASES["elf/riscv64-vmlinux"][0], tmp_path)
    assert loaders["kexec-file"]["verdict"] == "accept"  # elf_kexec_ops, 5.19 and later
    assert loaders["kexec-file"]["by_version"] == []
    assert loaders["kexec-tools"]["verdict"] == "accept"  # elf-riscv, 2.0.32
    assert {loaders[n]["verdict"] for n in ("u-boot", "grub", "efi")} == {"reject"}


def test_target(tmp_path):
    assert "target/arch-mismatch" not in run(GOOD, tmp_path, **_options(
        {"target": "riscv64"})).reported_rules()
    assert "target/arch-mismatch" in run(GOOD, tmp_path, **_options(
        {"target": "arm64"})).reported_rules()


def test_the_real_debian_image_with_its_config(tmp_path):
    """No false alarm on Debian 13's riscv64 Image with its own config; the facts are the
    struct one-liners' (expected.json)."""
    image = materialise(REAL / "image.excerpt.json", tmp_path / "vmlinux")
    expected = json.loads((REAL / "expected.json").read_text())["facts"]
    result = run(image.read_bytes(), tmp_path, config=kconfig.parse(
        (REAL / "config").read_text()))
    assert result.format == "riscv64-image"
    facts = result.facts
    for key in ("text_offset", "image_size", "efi_stub", "header_version", "pe_offset",
                "endianness", "kernel_version"):
        assert facts[key] == expected[key], key
    assert {f.rule for f in result.findings} == {"loader/not-supported"}
    loaders = image_json(result)["loaders"]
    assert {n: v["verdict"] for n, v in loaders.items()} == {
        "kexec-tools": "accept", "kexec-file": "accept", "u-boot": "accept",
        "grub": "accept", "efi": "accept", "qemu": "n/a"}


def _loongarch() -> bytes:
    data = bytearray(0x200)
    data[:2] = b"MZ"
    data[0x38:0x3C] = struct.pack("<I", 0x818223CD)  # LINUX_PE_MAGIC (booting.rst)
    data[0x3C:0x40] = struct.pack("<I", 0x40)
    data[0x40:0x46] = b"PE\0\0" + struct.pack("<H", 0x6264)  # IMAGE_FILE_MACHINE_LOONGARCH64
    return bytes(data)


def _arm_zimage() -> bytes:
    data = bytearray(0x200)
    data[0x24:0x28] = struct.pack("<I", 0x016F2818)  # arch/arm/boot/compressed/head.S
    return bytes(data)


def _s390() -> bytes:
    data = bytearray(0x10100)
    data[0x10008:0x1000E] = b"S390EP"  # arch/s390/kernel/kexec_image.c
    return bytes(data)


def _mips_uimage() -> bytes:
    from validator.formats.uimage.samples import uimage_bytes

    return uimage_bytes(bytes(range(256)), comp=0, arch=5)  # IH_ARCH_MIPS (image.h)


FOREIGN = {
    "mips-uimage": _mips_uimage(),
    "loongarch64": _loongarch(),
    "arm": _arm_zimage(),
    "s390x": _s390(),
    "mips": elf64(bytes(0x100), endian="big", machine=8),  # EM_MIPS
    "s390x-elf": elf64(bytes(0x100), endian="big", machine=22),  # EM_S390
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_other_architectures_are_named_and_not_judged(name, tmp_path):
    result = run(FOREIGN[name], tmp_path)
    doc = image_json(result)
    assert doc["format"] == "foreign"
    assert doc["facts"]["arch"] == name.split("-")[0]
    assert {f["severity"] for f in doc["findings"]} == {"info"}  # (a uImage adds its layer's)
    (found,) = [f for f in doc["findings"] if f["rule"] == "foreign/not-described"]
    assert f"not described by kimage ({name.split('-')[0]})" in found["message"]
    assert {v["verdict"] for v in doc["loaders"].values()} == {"n/a"}
    assert doc["verdict"] == "pass"
