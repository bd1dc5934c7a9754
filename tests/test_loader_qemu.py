"""kimage's ``qemu`` verdict (qemu-system-aarch64 -M virt -kernel) on corpus images and on
constructed headers.

Expected values are QEMU 7.2's behaviour as read in hw/arm/boot.c / hw/core/loader.c and
observed by loadertruth/qemu.py (entry PC and x0 at the kernel's first instruction, or
QEMU's refusal line), noted per case; none is computed by kimage.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil

import pytest

from corpus.kernels.parts import materialise_parts
from corpus.make_synthetic import _elf64
from corpus.materialise import materialise
from tests.conftest import CORPUS
from tests.test_rules import ARM64_BASE, arm64, patch, ppc64_elf, uimage, zboot
from validator import checker, loaders
from validator.rules.registry import ALL_LOADERS

GIB = 1 << 30
#: an Image with a body that does not compress to nothing, gzipped
GZIP_BODY = gzip.compress(ARM64_BASE + bytes(i * 37 % 251 for i in range(1 << 14)), mtime=0)


def verdict(data: bytes, tmp_path, name: str = "image") -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    return checker.check_image(path, checker.Options()).loaders["qemu"]


def test_qemu_is_a_registered_loader():
    assert "qemu" in loaders.names()
    assert "qemu" in ALL_LOADERS


# (image, verdict, reasons): what QEMU 7.2 did with it
CASES = {
    # entry 0x40200000 (text_offset 0 < 4 KiB: +2 MiB), x0 = DTB at 0x48000000
    "clean": (ARM64_BASE, "accept", []),
    # observed: "no ARM\x64 magic", the file is a raw blob started at 0x40080000
    "bad-magic": (patch(ARM64_BASE, 0x38, b"ARMD"), "reject", ["arm64/bad-magic"]),
    "swapped-magic": (patch(ARM64_BASE, 0x38, b"dMRA"), "reject", ["arm64/bad-magic"]),
    # image_size 0: entry 0x40080000 = 0x40000000 + 0x80000, as booting.rst says
    "image-size-zero": (arm64(image_size=0), "accept", []),
    # 256 MiB fits -m 2048: entry 0x40200000, DTB moved up to 0x50200000
    "image-size-256m": (arm64(image_size=256 << 20), "accept", []),
    # "Not enough space for DTB after kernel/initrd"
    "image-size-2g": (arm64(image_size=2 * GIB), "reject", ["arm64/image-size-implausible"]),
    # "kernel ... is too large to fit in RAM"
    "image-size-4g": (arm64(image_size=4 * GIB), "reject", ["arm64/image-size-implausible"]),
    # "could not load kernel": 0xffffffffffff0000 is negative as an ssize_t
    "image-size-max": (arm64(image_size=(1 << 64) - 0x10000), "reject",
                       ["arm64/image-size-implausible"]),
    # QEMU does not check alignment: entry 0x40001234 = 0x40000000 + 0x1234
    "text-offset-0x1234": (arm64(text_offset=0x1234), "accept", []),
    # below 4 KiB: entry 0x40200008
    "text-offset-0x8": (arm64(text_offset=0x8), "accept", []),
    # "Not enough space for DTB after kernel/initrd" (entry 0x140000000, past the RAM)
    "text-offset-4g": (arm64(text_offset=4 * GIB), "reject",
                       ["arm64/text-offset-implausible"]),
    # "Some ROM regions are overlapping": -0x1000 puts the image over the boot stub
    "text-offset-minus-4k": (arm64(text_offset=(1 << 64) - 0x1000), "reject",
                             ["arm64/text-offset-implausible"]),
    # never read by QEMU
    "flags-be": (arm64(flags_be=True), "accept", []),
    "flags-page-size-0": (arm64(flags_page_size=0), "accept", []),
    "flags-placement-0": (arm64(flags_phys_base=False), "accept", []),
    "reserved-fields": (arm64(res2=1, res3=1, res4=1), "accept", []),
    "no-mz": (arm64(code0=0xD503201F, pe_offset=0), "accept", []),
    "pe-offset-bogus": (arm64(pe_offset=0x12345), "accept", []),
    # load_image_gzipped_buffer undoes gzip; nothing else (raw blob at 0x40080000)
    "gzip": (gzip.compress(ARM64_BASE, mtime=0), "accept", []),
    "xz": (lzma.compress(ARM64_BASE), "reject", ["layer/compressed"]),
    "bzip2": (bz2.compress(ARM64_BASE), "reject", ["layer/compressed"]),
    # a gzip stream cut short: gunzip fails, the file is a raw blob
    "gzip-truncated": (GZIP_BODY[: len(GZIP_BODY) // 2], "reject", ["layer/truncated"]),
    # zboot: LINUX_PE_MAGIC, not ARM\x64, at 0x38: raw blob at 0x40080000
    "zboot": (zboot(ARM64_BASE), "reject", ["layer/zboot"]),
    # magic compared only when the file is longer than 60 bytes (observed on truncated--60
    # and truncated--63 of the real kernels: 0x40080000 and 0x40200000)
    "truncated-60": (ARM64_BASE[:60], "reject", ["arm64/truncated-header"]),
    "truncated-62": (ARM64_BASE[:62], "accept", []),
    # arm_load_elf: loaded at p_paddr, started at e_entry with no boot stub, x0 = 0
    "vmlinux-elf": (_elf64(ARM64_BASE, "little", machine=183), "reject",
                    ["elf/arm64-vmlinux"]),
    # load_uboot_image: ih_load/ih_ep honoured, CRC not checked, none/gzip only
    "uimage": (uimage(ARM64_BASE), "accept", []),
    "uimage-gzip": (uimage(gzip.compress(ARM64_BASE, mtime=0), comp=1), "accept", []),
    "uimage-bad-crc": (patch(uimage(ARM64_BASE), 4, b"\0\0\0\0"), "accept", []),
    "uimage-load-0x80000": (uimage(ARM64_BASE, load=0x80000), "reject",
                            ["arm64/uimage-placement"]),
    "uimage-load-unaligned": (uimage(ARM64_BASE, load=0x40210000), "reject",
                              ["arm64/uimage-placement"]),
    "uimage-entry-elsewhere": (uimage(ARM64_BASE, ep=0x40201000), "reject",
                               ["arm64/uimage-placement"]),
    "uimage-bzip2": (uimage(bz2.compress(ARM64_BASE), comp=2), "reject",
                     ["layer/compressed"]),
    "uimage-not-linux": (uimage(ARM64_BASE, os_=17), "reject", ["layer/unknown-format"]),
    "uimage-kernel-noload": (uimage(ARM64_BASE, type_=14), "reject",
                             ["arm64/uimage-placement"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_constructed(name, tmp_path):
    data, expected, reasons = CASES[name]
    v = verdict(data, tmp_path)
    assert v["verdict"] == expected, v
    assert v["reasons"] == reasons, v


def test_notes_say_where_qemu_puts_an_old_header(tmp_path):
    notes = verdict(arm64(image_size=0), tmp_path)["notes"]
    assert any("0x80000" in n for n in notes)
    notes = verdict(arm64(text_offset=0x8), tmp_path)["notes"]
    assert any("2 MiB above RAM base" in n for n in notes)


def test_ppc64_is_not_applicable(tmp_path):
    assert verdict(ppc64_elf(), tmp_path)["verdict"] == "n/a"


@pytest.fixture(scope="module")
def corpus_images(tmp_path_factory):
    out = tmp_path_factory.mktemp("qemu-corpus")
    k = CORPUS / "kernels"
    images = {
        "debian": materialise(CORPUS / "real/debian-6.1.0-50-arm64/image.excerpt.json",
                              out / "debian"),
        "4k-efi": materialise(k / "arm64-4k-le-efi/Image.excerpt.json", out / "4k"),
        "16k-noefi": materialise(k / "arm64-16k-le-noefi/Image.excerpt.json", out / "16k"),
        "64k-be": materialise(k / "arm64-64k-be-noefi/Image.excerpt.json", out / "64k"),
        "uImage.gz": materialise_parts(k / "arm64-4k-le-efi/uImage.gz.parts.json",
                                       out / "uImage.gz"),
        "boot-v0": materialise_parts(k / "arm64-4k-le-efi/boot-v0.img.parts.json",
                                     out / "boot-v0.img"),
    }
    for name, src in (("Image.gz", k / "arm64-4k-le-efi/Image.gz"),
                      ("zboot-gzip", k / "arm64-4k-le-zboot-gzip/vmlinuz.efi"),
                      ("zboot-zstd", k / "arm64-4k-le-zboot-zstd/vmlinuz.efi"),
                      ("v3.12", CORPUS / "synthetic/arm64/v3.12-le-noefi.img")):
        images[name] = shutil.copyfile(src, out / name)
    return images


# observed with loadertruth/qemu.py on the same files
CORPUS_EXPECTED = {
    "debian": ("accept", []),  # entry 0x40200000, x0 0x48000000
    "4k-efi": ("accept", []),
    "16k-noefi": ("accept", []),
    "64k-be": ("accept", []),  # started little-endian at 0x40200000; the kernel switches
    "Image.gz": ("accept", []),  # gunzipped, entry 0x40200000
    "zboot-gzip": ("reject", ["layer/zboot"]),  # entry 0x40080000, no ARM\x64
    "zboot-zstd": ("reject", ["layer/zboot"]),
    "uImage.gz": ("reject", ["arm64/uimage-placement"]),  # entry 0x80000: flash, not RAM
    "boot-v0": ("reject", ["layer/not-unwrapped"]),  # "ANDROID!" blob at 0x40080000
    "v3.12": ("accept", []),  # image_size 0: entry 0x40080000
}


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus(name, corpus_images):
    v = checker.check_image(corpus_images[name], checker.Options()).loaders["qemu"]
    assert (v["verdict"], v["reasons"]) == CORPUS_EXPECTED[name], v
