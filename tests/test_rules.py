"""Every rule: an image (made with the construct twins) that triggers it and one that does not.

The trigger images change one field of a clean image, so each case also shows that the
rule is about that field and nothing else.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import pytest

from corpus.make_synthetic import _elf64, _ppc64_head
from corpus.materialise import excerpt_bytes
from tests.conftest import CORPUS
from tests.test_preflight import RULE_TESTS as PREFLIGHT_AND_PATCH
from validator import checker, kconfig, seedcorpus, sysmap
from validator.formats.arm64_image import twin as arm64_image
from validator.formats.elf import EM_PPC64
from validator.formats.elf.writer import elf32
from validator.formats.ppc64_head import twin as ppc64_head
from validator.rules.registry import load_all
from validator.targets import parse_target

ARM64_BASE = (CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img").read_bytes()
RUN0 = ppc64_head.RUN0


def arm64(**changes) -> bytes:
    """The clean EFI Image with header fields changed (flags.* for flag bits)."""
    h = arm64_image.parse(ARM64_BASE)
    header = {k: h[k] for k in arm64_image.SEQ_FIELDS}
    header["flags"] = {k: h.flags[k] for k in arm64_image.FLAG_FIELDS}
    for key, value in changes.items():
        if key.startswith("flags_"):
            header["flags"][key[6:]] = value
        else:
            header[key] = value
    return arm64_image.build(header) + ARM64_BASE[64:]


EFI_IMAGE = excerpt_bytes(CORPUS / "kernels/arm64-4k-le-efi/Image.excerpt.json")


def patch(data: bytes, offset: int, raw: bytes) -> bytes:
    return data[:offset] + raw + data[offset + len(raw):]


def ppc64_elf(endian="little", run_at_load=RUN0, elf_endian=None, **body) -> bytes:
    head = _ppc64_head(endian, ppc64_head.SKIP_LONG, 10, run_at_load)
    if body:
        top = ppc64_head.parse(head)
        fields = {k: top.body[k] for k in ppc64_head.BODY_FIELDS}
        fields["fixup_endian"] = {k: top.body.fixup_endian[k]
                                  for k in ("tdi", "skip_branch", "trampoline")}
        fields.update(body)
        head = ppc64_head.build({"is_le": endian == "little", "body": fields})
    return _elf64(head, elf_endian or endian, machine=21)


def plain_head(**words) -> bytes:
    head = bytearray(_ppc64_head("big", None, 0, words.get("run_at_load", RUN0)))
    if "kdump_flag" in words:
        head[0x18:0x20] = struct.pack(">Q", words["kdump_flag"])
    if "iseries" in words:
        head[0x20:0x28] = struct.pack(">Q", words["iseries"])
    return _elf64(bytes(head), "big", machine=21)


def _elf32_ppc64(head: bytes) -> bytes:
    """An ELFCLASS32 file with EM_PPC64 and one PT_LOAD holding ``head`` (ELF gABI)."""
    return elf32(head, endian="big", machine=EM_PPC64)


ARM64_CONFIG = ("# Linux/arm64 6.1.176 Kernel Configuration\nCONFIG_ARM64=y\n"
                "CONFIG_ARM64_4K_PAGES=y\n# CONFIG_CPU_BIG_ENDIAN is not set\nCONFIG_EFI=y\n"
                "CONFIG_EFI_STUB=y\nCONFIG_RELOCATABLE=y\nCONFIG_RANDOMIZE_BASE=y\n")
PPC64_CONFIG = ("# Linux/powerpc 6.1.176 Kernel Configuration\nCONFIG_PPC64=y\n"
                "CONFIG_CPU_LITTLE_ENDIAN=y\nCONFIG_RELOCATABLE=y\nCONFIG_CRASH_DUMP=y\n")
PPC64_MAP = ("c000000000000000 T _stext\nc000000000000000 T _text\n"
             "c00000000000005c T __run_at_load\nc000000000000060 T __secondary_hold\n")
ARM64_MAP = ("ffff800008000000 T _text\nffff800008001000 T primary_entry\n"
             "ffff800009aa0000 B _end\n")


def cfg(text: str) -> dict:
    return {"config": kconfig.parse(text, "test.config")}


def smap(text: str) -> dict:
    return {"symbols": sysmap.parse(text, "System.map")}


def tgt(text: str) -> dict:
    return {"target": parse_target(text)}


# rule -> (triggering image, options), (clean image, options)
CASES = {
    "layer/unknown-format": ((b"hello, world\n" * 10, {}), (ARM64_BASE, {})),
    "arm64/bad-magic": ((patch(ARM64_BASE, 0x38, b"ARMD"), {}), (ARM64_BASE, {})),
    "arm64/truncated-header": ((ARM64_BASE[:62], {}), (ARM64_BASE, {})),
    "arm64/image-size-zero": ((arm64(image_size=0), {}), (ARM64_BASE, {})),
    "arm64/text-offset-unaligned": ((arm64(text_offset=0x1234), {}),
                                    (arm64(text_offset=0x80000), {})),
    "arm64/text-offset-unusual": ((arm64(text_offset=0x200000), {}),
                                  (arm64(text_offset=0x80000), {})),
    "arm64/reserved-flags": ((arm64(flags_reserved=1 << 10), {}), (ARM64_BASE, {})),
    "arm64/reserved-fields": ((arm64(res3=5), {}), (ARM64_BASE, {})),
    "arm64/page-size-unspecified": ((arm64(flags_page_size=0), {}), (ARM64_BASE, {})),
    "arm64/no-efi-stub": ((arm64(code0=0xD503201F, pe_offset=0), {}), (ARM64_BASE, {})),
    "arm64/pe-offset-invalid": ((arm64(pe_offset=0x80), {}), (ARM64_BASE, {})),
    "arm64/pe-machine": ((patch(ARM64_BASE, 0x44, b"\x64\x86"), {}), (ARM64_BASE, {})),
    "arm64/pe-offset-without-mz": ((arm64(code0=0xD503201F), {}),
                                   (arm64(code0=0xD503201F, pe_offset=0), {})),
    "arm64/image-size-smaller-than-file": ((arm64(image_size=0x800), {}), (ARM64_BASE, {})),
    "arm64/entry-outside-image": ((arm64(code1=0x14000000 | 0x40000), {}), (ARM64_BASE, {})),
    "arm64/image-size-implausible": ((arm64(image_size=1 << 31), {}), (ARM64_BASE, {})),
    "arm64/text-offset-implausible": ((arm64(text_offset=1 << 32), {}),
                                      (arm64(text_offset=0x200000), {})),
    "arm64/pe-sections-outside-file": ((EFI_IMAGE[:-1], {}), (EFI_IMAGE, {})),
    "arm64/file-truncated": ((EFI_IMAGE[:-1], {}), (EFI_IMAGE, {})),
    "elf/arm64-vmlinux": ((seedcorpus.elf64(ARM64_BASE, endian="little", machine=183), {}),
                          (ARM64_BASE, {})),
    "layer/not-unwrapped": ((seedcorpus.android_bytes(ARM64_BASE, version=0), {}),
                            (ARM64_BASE, {})),
    "ppc64/run-at-load-unknown": ((ppc64_elf(run_at_load=0xDEADBEEF), {}), (ppc64_elf(), {})),
    "ppc64/run-at-load-preset": ((ppc64_elf(run_at_load=1), {}), (ppc64_elf(), {})),
    "ppc64/not-relocatable": ((ppc64_elf(run_at_load=0), {}), (ppc64_elf(), {})),
    "ppc64/endian-mismatch": ((ppc64_elf(elf_endian="big"), {}), (ppc64_elf(), {})),
    "ppc64/legacy-layout": ((plain_head(), {}), (ppc64_elf(), {})),
    "ppc64/iseries-pointer": ((plain_head(iseries=0x4000), {}), (plain_head(), {})),
    "ppc64/kdump-flag-set": ((plain_head(kdump_flag=1), {}), (plain_head(), {})),
    "ppc64/secondary-entry": ((ppc64_elf(secondary_hold=bytes(0xA0)), {}), (ppc64_elf(), {})),
    "ppc64/spinloop-set": ((ppc64_elf(secondary_hold_spinloop=5), {}), (ppc64_elf(), {})),
    "ppc64/raw-head": (((CORPUS / "synthetic/ppc64/fixup_endian_long-le-run0.head")
                        .read_bytes(), {}), (ppc64_elf(), {})),
    "ppc64/elf-not-elf64": ((_elf32_ppc64(_ppc64_head("big", ppc64_head.SKIP_LONG, 10, RUN0)),
                             {}), (ppc64_elf(endian="big"), {})),
    "ppc64/head-truncated": ((_elf64(_ppc64_head("little", ppc64_head.SKIP_LONG, 10, RUN0)[:200],
                                     "little", 21), {}), (ppc64_elf(), {})),
    "ppc64/head-unrecognised": ((_elf64(bytes(256), "little", 21), {}), (ppc64_elf(), {})),
    "elf/malformed": ((ppc64_elf()[:0x3E], {}), (ppc64_elf(), {})),
    "elf/truncated": ((ppc64_elf()[:0x1080], {}), (ppc64_elf(), {})),
    "elf/unsupported-machine": ((patch(ppc64_elf(), 0x12, b"\x3e\x00"), {}), (ppc64_elf(), {})),
    "elf/no-load-segment": ((patch(ppc64_elf(), 0x38, b"\x00\x00"), {}), (ppc64_elf(), {})),
    "config/malformed-line": ((ARM64_BASE, cfg(ARM64_CONFIG + "CONFIG_FOO\nrubbish\n")),
                              (ARM64_BASE, cfg(ARM64_CONFIG))),
    "config/arch-mismatch": ((ppc64_elf(), cfg(ARM64_CONFIG)), (ppc64_elf(), cfg(PPC64_CONFIG))),
    "config/page-size-mismatch": ((arm64(flags_page_size=3), cfg(ARM64_CONFIG)),
                                  (ARM64_BASE, cfg(ARM64_CONFIG))),
    "config/endianness-mismatch": ((arm64(flags_be=True), cfg(ARM64_CONFIG)),
                                   (ARM64_BASE, cfg(ARM64_CONFIG))),
    "config/efi-stub-mismatch": ((arm64(code0=0xD503201F, pe_offset=0), cfg(ARM64_CONFIG)),
                                 (ARM64_BASE, cfg(ARM64_CONFIG))),
    "config/randomize-base-without-relocatable": (
        (ARM64_BASE, cfg(ARM64_CONFIG.replace("CONFIG_RELOCATABLE=y\n", ""))),
        (ARM64_BASE, cfg(ARM64_CONFIG))),
    "config/relocatable-mismatch": ((ppc64_elf(run_at_load=0), cfg(PPC64_CONFIG)),
                                    (ppc64_elf(), cfg(PPC64_CONFIG))),
    "config/run-at-load-patched": ((ppc64_elf(run_at_load=1), cfg(PPC64_CONFIG)),
                                   (ppc64_elf(run_at_load=1),
                                    cfg(PPC64_CONFIG + "CONFIG_RELOCATABLE_TEST=y\n"))),
    "config/crash-dump-not-relocatable": (
        (ppc64_elf(run_at_load=0), cfg(PPC64_CONFIG.replace("CONFIG_RELOCATABLE=y\n", ""))),
        (ppc64_elf(), cfg(PPC64_CONFIG))),
    "config/version-mismatch": (
        (ARM64_BASE + b"Linux version 6.6.0-1-arm64 (x@y) #1\0", cfg(ARM64_CONFIG)),
        (ARM64_BASE + b"Linux version 6.1.0-50-arm64 (x@y) #1\0", cfg(ARM64_CONFIG))),
    "symbols/malformed-line": ((ppc64_elf(), smap(PPC64_MAP + "not a symbol line\n")),
                               (ppc64_elf(), smap(PPC64_MAP))),
    "symbols/stub": ((ppc64_elf(), smap("ffffffffffffffff B The real System.map is in the "
                                        "linux-image-6.1.0-50-arm64-dbg package\n")),
                     (ppc64_elf(), smap(PPC64_MAP))),
    "symbols/no-base": ((ppc64_elf(), smap("c000000000000060 T __secondary_hold\n")),
                        (ppc64_elf(), smap(PPC64_MAP))),
    "symbols/run-at-load-offset": (
        (ppc64_elf(), smap(PPC64_MAP.replace("c00000000000005c", "c000000000000058"))),
        (ppc64_elf(), smap(PPC64_MAP))),
    "symbols/secondary-hold-offset": (
        (ppc64_elf(), smap(PPC64_MAP.replace("c000000000000060", "c000000000000064"))),
        (ppc64_elf(), smap(PPC64_MAP))),
    "symbols/run-at-load-mismatch": ((ppc64_elf(run_at_load=0), smap(PPC64_MAP)),
                                     (ppc64_elf(), smap(PPC64_MAP))),
    "symbols/image-size-mismatch": ((arm64(image_size=0x1AB0000), smap(ARM64_MAP)),
                                    (ARM64_BASE, smap(ARM64_MAP))),
    "symbols/entry-mismatch": ((arm64(code1=0x14000000 | (0x800 - 4) // 4), smap(ARM64_MAP)),
                               (ARM64_BASE, smap(ARM64_MAP))),
    "target/arch-mismatch": ((ppc64_elf(), tgt("arm64")), (ppc64_elf(), tgt("ppc64le"))),
    "target/endianness": ((arm64(flags_be=True), tgt("arm64")), (ARM64_BASE, tgt("arm64"))),
    "target/page-size": ((arm64(flags_page_size=2), tgt("arm64:4k,64k")),
                         (ARM64_BASE, tgt("arm64:4k,64k"))),
    "loader/rejects": ((arm64(image_size=0), {"loaders": {"kexec-file"}}),
                       (arm64(image_size=0), {"loaders": {"kexec-tools"}})),
}


def zboot(payload: bytes, method: bytes = b"gzip") -> bytes:
    """An EFI zboot file as zboot-header.S lays it out: MZ, "zimg", payload offset and
    size, the method name at 0x18, the PE offset at 0x3c; the compressed Image after it."""
    blob = gzip.compress(payload, mtime=0)
    header = bytearray(0x200)
    header[0:8] = b"MZ\0\0zimg"
    header[8:16] = struct.pack("<II", 0x200, len(blob))
    header[0x18:0x18 + len(method)] = method
    header[0x3C:0x40] = struct.pack("<I", 0x40)
    header[0x40:0x46] = b"PE\0\0" + struct.pack("<H", 0xAA64)
    return bytes(header) + blob


def uimage(payload: bytes, load: int = 0x40200000, ep: int | None = None, os_: int = 5,
           type_: int = 2, comp: int = 0) -> bytes:
    """A legacy uImage (U-Boot include/image.h legacy_img_hdr, big-endian): magic, header
    CRC, time, size, load, entry, data CRC, os (5 Linux), arch (22 arm64), type (2 kernel),
    comp (0 none, 1 gzip), name; the payload after the 64 bytes."""
    ep = load if ep is None else ep
    head = struct.pack(">IIIIIIIBBBB32s", 0x27051956, 0, 0, len(payload), load, ep,
                       zlib.crc32(payload), os_, 22, type_, comp, b"test")
    head = head[:4] + struct.pack(">I", zlib.crc32(head)) + head[8:]
    return head + payload


CASES.update({
    "arm64/uimage-placement": ((uimage(ARM64_BASE, load=0x80000), {}),
                               (uimage(ARM64_BASE), {})),
    "layer/compressed": ((gzip.compress(ARM64_BASE, mtime=0), {}), (ARM64_BASE, {})),
    "layer/zboot": ((zboot(ARM64_BASE), {}), (ARM64_BASE, {})),
    "layer/zboot-no-pe": ((patch(zboot(ARM64_BASE), 0x3C, b"\0\0\0\0"), {}),
                          (zboot(ARM64_BASE), {})),
    "elf/type": ((patch(ppc64_elf(), 0x10, b"\x01\x00"), {}), (ppc64_elf(), {})),
    "config/zboot-mismatch": ((zboot(ARM64_BASE), cfg(ARM64_CONFIG)),
                              (zboot(ARM64_BASE), cfg(ARM64_CONFIG + "CONFIG_EFI_ZBOOT=y\n"))),
})
# Android boot and vendor_boot (AOSP bootimg.h layouts, validator/formats/android/samples.py)
_vendor = seedcorpus.vendor_boot_bytes
CASES.update({
    "android/section-past-end": (
        (seedcorpus.android_bytes(ARM64_BASE, version=4, ramdisk=b"070701",
                                  ramdisk_size=0x100000), {}),
        (seedcorpus.android_bytes(ARM64_BASE, version=4, ramdisk=b"070701"), {})),
    "android/reserved-nonzero": (
        (seedcorpus.android_bytes(ARM64_BASE, version=3, reserved=(0, 0, 0x10000100, 2048)),
         {}),
        (seedcorpus.android_bytes(ARM64_BASE, version=3), {})),
    "layer/android": ((seedcorpus.android_bytes(ARM64_BASE, version=2), {}),
                      (seedcorpus.android_bytes(b"", version=4, ramdisk=b"070701"), {})),
    "android/init-boot": ((seedcorpus.android_bytes(b"", version=4, ramdisk=b"070701"), {}),
                          (seedcorpus.android_bytes(ARM64_BASE, version=4), {})),
    "android/vendor-boot": ((_vendor(version=3, dtb=b"\xd0\x0d\xfe\xed"), {}),
                            (seedcorpus.android_bytes(ARM64_BASE, version=3), {})),
    "android/vendor-ramdisk-table": (
        (_vendor(version=4, ramdisks=(b"070701", b"x" * 9), entry_sizes=(6, 10)), {}),
        (_vendor(version=4, ramdisks=(b"070701", b"x" * 9)), {})),
})
# Rules whose trigger needs more than an image and options; tested where named.
ELSEWHERE = {
    "kimage/internal-error": "test_check_cli.py::test_a_check_that_raises_is_reported",
    "layer/unreadable": "test_check_cli.py::test_lint_reports_unreadable_paths",
    "kimage/worker-died": "test_hostile_cli.py::test_a_dead_worker_costs_one_result_not_the_report",
    # wrappers: hostile and malformed containers, in tests/test_layers.py
    **{rule_id: "test_layers.py" for rule_id in (
        "android/bad-header", "deb/no-kernel", "layer/corrupt", "layer/decompression-limit",
        "layer/lying-size", "layer/nesting-limit", "layer/truncated",
        "layer/unsupported-compression", "pe/malformed", "uimage/bad-header-crc",
        "uimage/compression-mismatch", "zboot/compression-mismatch", "zboot/no-arm64-image",
        "zboot/payload-outside-file", "zboot/unknown-compression")},
    **{rule_id: "test_hostile_layers.py" for rule_id in (
        "elf/too-many-program-headers", "layer/tar-header-limit", "layer/decoder-memory-limit",
        "layer/decoded-in-part")},
    "uimage/bad-data-crc": "test_hostile_layers_deb.py",
    **{rule_id: "test_rpm_samples.py" for rule_id in (
        "rpm/bad-header", "rpm/header-limit", "rpm/no-kernel", "rpm/payload-mismatch")},
    "archpkg/no-kernel": "test_archpkg.py",
    "layer/uimage": "test_uimage_loaders.py",
    "deb/metapackage": "test_deb_layouts.py",  # Linux 7.x's split packages, dpkg-deb built
    "deb/kernel-companions": "test_deb_layouts.py",
    "uki/no-default-linux": "test_uki_profiles.py",
    **{rule_id: "test_uki_samples.py" for rule_id in (
        "layer/uki", "uki/linux-not-pe", "uki/linux-stub-too-old", "uki/linux-machine",
        "uki/section-outside-file", "uki/uname-mismatch")},
    **{rule_id: "test_fit_samples.py" for rule_id in (
        "layer/fit", "fit/bad-hash", "fit/no-kernel", "fit/not-a-kernel",
        "fit/data-outside-file", "fit/compression-mismatch", "fit/malformed",
        "fit/kernel-placement")},
    "loader/codec-not-linked": "test_loader_builds.py",  # a build's verdict (by_build)
    # the x86 bzImage's, with their loader verdicts
    **{rule_id: "test_x86_rules.py" for rule_id in (
        "x86/bad-boot-flag", "x86/truncated-header", "x86/not-bzimage", "x86/protocol-too-old",
        "x86/not-bzimage64", "x86/not-relocatable", "x86/kernel-alignment-invalid",
        "x86/setup-outside-file", "x86/too-many-setup-sectors", "x86/no-efi-stub",
        "x86/pe-offset-invalid", "x86/pe-machine", "x86/config-64bit-mismatch",
        "x86/config-relocatable-mismatch", "x86/config-physical-align-mismatch",
        "x86/config-physical-start-mismatch", "x86/config-efi-stub-mismatch",
        "x86/symbols-text-mismatch")},
    # the riscv64 Image's and other architectures', with their loader verdicts
    **{rule_id: "test_riscv64_format.py" for rule_id in (
        "riscv64/bad-magic", "riscv64/truncated-header", "riscv64/image-size-zero",
        "riscv64/big-endian", "riscv64/image-size-implausible", "riscv64/version-too-old",
        "riscv64/text-offset-not-power-of-two",
        "riscv64/image-size-smaller-than-file", "riscv64/old-magic-missing",
        "riscv64/no-efi-stub", "riscv64/pe-offset-invalid", "riscv64/pe-machine",
        "riscv64/config-64bit-mismatch", "riscv64/config-efi-stub-mismatch",
        "riscv64/symbols-image-size-mismatch", "elf/riscv64-vmlinux", "loader/not-supported",
        "foreign/not-described")},
    # kdump pre-flight and the loader's write, in tests/test_preflight.py and test_patch.py
    **PREFLIGHT_AND_PATCH,
}


def findings(data: bytes, options: dict, tmp_path) -> list[str]:
    path = tmp_path / "image"
    path.write_bytes(data)
    result = checker.check_image(path, checker.Options(**options))
    return sorted(result.reported_rules())


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_triggers_and_stays_quiet(rule_id, tmp_path):
    (bad, bad_options), (good, good_options) = CASES[rule_id]
    assert rule_id in findings(bad, bad_options, tmp_path)
    assert rule_id not in findings(good, good_options, tmp_path)


def test_every_rule_has_a_case():
    rules = set(load_all())
    untested = rules - set(CASES) - set(ELSEWHERE)
    assert not untested, f"rules without a trigger test: {sorted(untested)}"
    assert not (set(CASES) | set(ELSEWHERE)) - rules
    tests = Path(__file__).parent
    for rule_id, where in ELSEWHERE.items():
        assert rule_id in (tests / where.split("::")[0]).read_text(), (rule_id, where)


def test_every_rule_is_documented():
    for r in load_all().values():
        assert r.severity in ("error", "warning", "info")
        assert r.summary and r.rationale and r.reference, r.id
        assert r.id == r.id.lower() and "/" in r.id, r.id


def test_every_reference_a_user_can_follow():
    """A rule's reference names upstream sources (with a version) or files in this
    repository that exist: `kimage rules` and SARIF help reach users outside it."""
    import os
    import re

    root = Path(__file__).resolve().parent.parent
    for r in load_all().values():
        assert "shared/" not in r.reference and "DESIGN.md" not in r.reference, r.id
        for path in re.findall(r"\b(?:validator|tests|docs|loadertruth|corpus|specs)/[\w./-]*",
                               r.reference):
            assert os.path.exists(root / path.rstrip(".,;)")), (r.id, path)
