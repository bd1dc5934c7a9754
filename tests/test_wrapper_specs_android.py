"""specs/android_boot.ksy against AOSP's own tools (Debian package mkbootimg): boot images
mkbootimg makes from drawn parameters (header versions 0-3, page sizes, addresses, os
version, board, command lines, optional second stage and DTB) parse to those parameters,
every field agrees with what unpack_bootimg prints, and the kernel, ramdisk, second and
dtb unpack_bootimg extracts lie where the spec's sizes and page arithmetic put them; the
same for the corpus boot-v0/boot-v3 images. Version 4 is made by Debian 13's mkbootimg
1:34 when loadertruth/install.sh mkbootimg has unpacked it (else checked against bootimg.h's
layout: signature_size after the 1536-byte command line). specs/android_vendor_boot.ksy
likewise: vendor_boot images mkbootimg makes from drawn parameters (v3; v4 with 1-3 ramdisk
fragments of drawn types, names and board ids, and a bootconfig) parse to them, agree with
unpack_bootimg, and its extracted sections lie where the spec's page arithmetic puts them.
Also compared with kimage's Android layer decoder (validator/formats/android/decoder.py,
which runs the generated parser on the check path) and what mkbootimg was asked to write."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.wrapper_corpus import kernel_file
from validator._kaitai.android_boot import AndroidBoot
from validator.pipeline import analyse

#: Debian 13's mkbootimg 1:34 (loadertruth/install.sh mkbootimg): header versions 0-4 and
#: vendor_boot 3-4; else Debian 12's 1:29 (apt-get install mkbootimg): 0-3 and vendor_boot 3.
TRIXIE = Path(__file__).resolve().parents[1] / "build/android/mkbootimg-trixie/usr/bin"
HAVE_V4 = (TRIXIE / "mkbootimg").is_file()
MKBOOTIMG = ["python3", str(TRIXIE / "mkbootimg")] if HAVE_V4 else ["mkbootimg"]
UNPACK_BOOTIMG = (["python3", str(TRIXIE / "unpack_bootimg")] if HAVE_V4
                  else ["unpack_bootimg"])
pytestmark = pytest.mark.skipif(
    not HAVE_V4 and (shutil.which("mkbootimg") is None or shutil.which("unpack_bootimg") is None),
    reason="mkbootimg/unpack_bootimg not installed (apt-get install mkbootimg)")

#: unpack_bootimg's labels -> how to read the spec's value
V0_LABELS = {"kernel_size": "kernel_size", "kernel load address": "kernel_addr",
             "ramdisk size": "ramdisk_size", "ramdisk load address": "ramdisk_addr",
             "second bootloader size": "second_size",
             "second bootloader load address": "second_addr",
             "kernel tags load address": "tags_addr", "page size": "page_size",
             "boot image header version": "header_version", "product name": "name",
             "command line args": "cmdline",
             "additional command line args": "extra_cmdline",
             "recovery dtbo size": "recovery_dtbo_size",
             "recovery dtbo offset": "recovery_dtbo_offset",
             "boot header size": "header_size", "dtb size": "dtb_size",
             "dtb address": "dtb_addr"}
V3_LABELS = {"kernel_size": "kernel_size", "ramdisk size": "ramdisk_size",
             "boot image header version": "header_version",
             "command line args": "cmdline", "boot.img signature size": "signature_size"}


def unpack(path: Path, out: Path) -> dict[str, str]:
    p = subprocess.run([*UNPACK_BOOTIMG, "--boot_img", str(path), "--out", str(out)],
                       capture_output=True, timeout=60, encoding="latin-1")
    assert p.returncode == 0, p.stderr
    return dict(re.findall(r"^([a-z_. ]+): ?(.*)$", p.stdout, re.M))


def _os_version(value: int) -> tuple[str, str]:
    """bootimg.h: A[31:25] B[24:18] C[17:11] (Y-2000)[10:4] M[3:0]."""
    v, p = value >> 11, value & 0x7FF
    return (f"{v >> 14}.{(v >> 7) & 0x7F}.{v & 0x7F}",
            f"{(p >> 4) + 2000:d}-{p & 0xF:02d}")


def spec_values(b: AndroidBoot) -> dict[str, str]:
    """The spec's fields as unpack_bootimg prints them."""
    h = b.header
    labels = V3_LABELS if b.is_v3_layout else V0_LABELS
    out = {}
    for label, field in labels.items():
        value = b.kernel_size if field == "kernel_size" else getattr(h, field, None)
        if value is None:
            continue
        if field.endswith(("_addr", "_offset")):
            value = hex(value)
        out[label] = str(value)
    out["os version"], out["os patch level"] = _os_version(h.os_version)
    return out


def normal(label: str, value: str) -> str:
    """unpack_bootimg's value as Debian 12's (1:29) prints it: 1:34 prints addresses
    zero-padded and an os version or patch level that is zero as None."""
    if label.endswith(("address", "offset")) and value.startswith("0x"):
        return hex(int(value, 16))
    if value == "None" and label in ("os version", "os patch level"):
        return "0.0.0" if label == "os version" else "2000-00"
    return value


def check_against_unpack(path: Path, out: Path) -> AndroidBoot:
    printed = unpack(path, out)
    b = AndroidBoot.from_file(str(path))
    ours = spec_values(b)
    assert {k: normal(k, printed[k]) for k in ours} == ours
    data = path.read_bytes()
    page = b.effective_page_size
    assert (out / "kernel").read_bytes() == data[b.kernel_offset:
                                                 b.kernel_offset + b.kernel_size]
    assert (out / "ramdisk").read_bytes() == data[b.ramdisk_offset:
                                                  b.ramdisk_offset + b.header.ramdisk_size]
    after_ramdisk = b.ramdisk_offset + -(-b.header.ramdisk_size // page) * page
    if not b.is_v3_layout and b.header.second_size:
        assert (out / "second").read_bytes() == data[after_ramdisk:
                                                     after_ramdisk + b.header.second_size]
    if not b.is_v3_layout and b.header_version == 2 and b.header.dtb_size:
        at = after_ramdisk + -(-b.header.second_size // page) * page \
            + -(-b.header.recovery_dtbo_size // page) * page
        assert (out / "dtb").read_bytes() == data[at:at + b.header.dtb_size]
    return b


@pytest.mark.parametrize("name", ["boot-v0.img", "boot-v3.img"])
def test_corpus_boot_images_match_unpack_bootimg(name, tmp_path):
    path = kernel_file("arm64-4k-le-efi", name, tmp_path)
    b = check_against_unpack(path, tmp_path / "out")
    assert b.header_version == (0 if name == "boot-v0.img" else 3)
    assert (tmp_path / "out/kernel").read_bytes()[:2] == b"\x1f\x8b"  # Image.gz


_ARG = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
               max_size=40)


@settings(max_examples=25, deadline=None)
@given(version=st.integers(0, 4 if HAVE_V4 else 3), page=st.sampled_from([2048, 4096, 8192, 16384]),
       sizes=st.tuples(*[st.integers(1, 9000)] * 2), second=st.integers(0, 5000),
       dtb=st.integers(1, 3000), base=st.integers(0, 0x7FFF).map(lambda x: x << 16),
       os_version=st.tuples(st.integers(0, 127), st.integers(0, 127), st.integers(0, 127)),
       patch=st.tuples(st.integers(2000, 2127), st.integers(1, 12)),
       board=st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), max_size=15),
       cmdline=st.lists(_ARG, max_size=40).map(" ".join))
def test_images_mkbootimg_makes(version, page, sizes, second, dtb, base, os_version, patch,
                                board, cmdline):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        version_text = ".".join(map(str, os_version))
        patch_text = f"{patch[0]}-{patch[1]:02d}"
        blobs = {"kernel": sizes[0], "ramdisk": sizes[1], "second": second, "dtb": dtb}
        args = [*MKBOOTIMG, "--header_version", str(version), "--base", hex(base),
                "--os_version", version_text,
                "--os_patch_level", patch_text, "-o", str(tmp / "boot.img")]
        for name, size in blobs.items():
            if size and (name != "dtb" or version == 2) and (name != "second" or version < 3):
                (tmp / name).write_bytes(bytes((i * 7 + size) & 0xFF for i in range(size)))
                args += [f"--{name}", str(tmp / name)]
        if version < 3:
            args += ["--pagesize", str(page), f"--board={board}"]
        args += [f"--cmdline={cmdline}"]  # "=": a value may start with "-"
        subprocess.run(args, check=True, capture_output=True, timeout=60)
        b = check_against_unpack(tmp / "boot.img", tmp / "out")
        h = b.header
        assert (b.header_version, b.kernel_size, h.ramdisk_size) == (version, *sizes)
        assert _os_version(h.os_version) == (version_text, patch_text)
        if version < 3:
            assert (h.page_size, h.name, h.cmdline + h.extra_cmdline) == (page, board, cmdline)
            assert h.second_size == second
            assert h.kernel_addr == base + 0x8000  # mkbootimg's default kernel_offset
        else:
            assert (b.effective_page_size, h.cmdline) == (4096, cmdline)
            if version == 4:
                assert h.signature_size == 0  # mkbootimg 1:34 writes no GKI signature
        # the check path's Android layer (the generated parser) against what mkbootimg wrote
        d = analyse(tmp / "boot.img").layers[0].details
        assert (d["header_version"], d["kernel_size"], d["ramdisk_size"], d["page_size"]) == (
            version, *sizes, page if version < 3 else 4096)
        assert (d["os_version"] or "0.0.0", d["os_patch_level"]) == (version_text, patch_text)
        assert d["cmdline"] == cmdline
        if version < 3:
            assert (d["name"], d["second_size"], d["kernel_addr"]) == (
                board, second, base + 0x8000)


def test_v4_layout_from_bootimg_h(tmp_path):
    """mkbootimg 29 writes no v4; bootimg.h's boot_img_hdr_v4 is boot_img_hdr_v3 (1580
    bytes) followed by a u32 signature_size."""
    path = kernel_file("arm64-4k-le-efi", "boot-v3.img", tmp_path)
    blob = bytearray(path.read_bytes())
    struct.pack_into("<I", blob, 40, 4)
    struct.pack_into("<I", blob, 1580, 0x1234)
    b = AndroidBoot.from_bytes(bytes(blob))
    assert (b.header_version, b.header.signature_size, b.header.cmdline) == (
        4, 0x1234, "console=ttyAMA0")
    assert b.kernel_offset == 4096


@pytest.mark.parametrize("name, header_size", [("boot-v0.img", 1632), ("boot-v3.img", 1580)])
def test_header_cut_short_is_truncated(name, header_size, tmp_path):
    """A boot image that ends inside its header (sizeof(boot_img_hdr_v0) 1632,
    sizeof(boot_img_hdr_v3) 1580, bootimg.h) is layer/truncated; one byte more than the
    header is a header with a lying kernel_size."""
    data = kernel_file("arm64-4k-le-efi", name, tmp_path).read_bytes()
    cut, whole = tmp_path / "cut.img", tmp_path / "header.img"
    cut.write_bytes(data[:header_size - 1])
    whole.write_bytes(data[:header_size])
    result = analyse(cut)
    assert [f.rule for f in result.findings] == ["layer/truncated"]
    assert result.layers[0].details == {}
    result = analyse(whole)
    assert "layer/lying-size" in {f.rule for f in result.findings}
    assert result.layers[0].details["header_version"] == (0 if name == "boot-v0.img" else 3)


_NAME = st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), max_size=15)


@settings(max_examples=20, deadline=None)
@given(version=st.integers(3, 4 if HAVE_V4 else 3), page=st.sampled_from([2048, 4096, 16384]),
       fragments=st.lists(st.tuples(st.integers(1, 5000), st.sampled_from(
           ["none", "platform", "recovery", "dlkm"]), _NAME, st.integers(0, 2**32 - 1)),
           min_size=1, max_size=3),
       dtb=st.integers(1, 3000), bootconfig=st.integers(0, 300), board=_NAME,
       cmdline=st.lists(_ARG, max_size=40).map(" ".join))
def test_vendor_boot_images_mkbootimg_makes(version, page, fragments, dtb, bootconfig,
                                            board, cmdline):
    from validator._kaitai.android_vendor_boot import AndroidVendorBoot

    if version == 3:
        fragments = fragments[:1]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        args = [*MKBOOTIMG, "--header_version", str(version), "--pagesize", str(page),
                "--vendor_boot", str(tmp / "vendor_boot.img"), f"--board={board}",
                f"--vendor_cmdline={cmdline}"]  # "=": a value may start with "-"
        blobs = {}
        for name, size in (("dtb", dtb), ("bootconfig", bootconfig)):
            blobs[name] = bytes((i * 13 + size) & 0xFF for i in range(size))
            (tmp / name).write_bytes(blobs[name])
        args += ["--dtb", str(tmp / "dtb")]
        if version == 4:
            args += ["--vendor_bootconfig", str(tmp / "bootconfig")]
        frags = []
        for i, (size, kind, name, board_id) in enumerate(fragments):
            frags.append(bytes((j * 3 + i) & 0xFF for j in range(size)))
            (tmp / f"vr{i}").write_bytes(frags[-1])
            if version == 4:
                # names must differ (mkbootimg refuses a repeated one): letters, then i
                args += ["--ramdisk_type", kind, "--ramdisk_name", f"{name}{i}",
                         "--board_id0", str(board_id), "--vendor_ramdisk_fragment",
                         str(tmp / f"vr{i}")]
            else:
                args += ["--vendor_ramdisk", str(tmp / f"vr{i}")]
        subprocess.run(args, check=True, capture_output=True, timeout=60)
        path = tmp / "vendor_boot.img"
        printed = unpack(path, tmp / "out")
        v = AndroidVendorBoot.from_file(str(path))
        assert (v.header_version, v.page_size, v.name, v.cmdline, v.dtb_size) == (
            version, page, board, cmdline, dtb)
        assert v.vendor_ramdisk_size == sum(map(len, frags))
        assert printed["vendor boot image header version"] == str(version)
        assert int(printed["page size"], 16) == page
        assert printed["product name"] == board
        assert printed["vendor command line args"] == cmdline
        assert printed["dtb size"] == str(dtb)
        assert int(printed["dtb address"], 16) == v.dtb_addr
        assert printed["vendor boot image header size"] == str(v.header_size)
        data = path.read_bytes()
        at = v.header_pages_end
        assert at == -(-(2128 if version == 4 else 2112) // page) * page
        ramdisks = data[at:at + v.vendor_ramdisk_size]
        at += -(-v.vendor_ramdisk_size // page) * page
        assert (tmp / "out/dtb").read_bytes() == data[at:at + dtb]
        d = analyse(path).layers[0].details
        assert (d["header_version"], d["page_size"], d["name"], d["cmdline"], d["dtb_size"],
                d["vendor_ramdisk_size"]) == (version, page, board, cmdline, dtb,
                                              len(ramdisks))
        if version == 3:
            assert (tmp / "out/vendor_ramdisk").read_bytes() == ramdisks == frags[0]
            return
        at += -(-dtb // page) * page
        assert v.vendor_ramdisk_table_entry_num == len(frags)
        assert v.vendor_ramdisk_table_entry_size == 108
        assert printed["vendor bootconfig size"] == str(bootconfig)
        at += -(-v.vendor_ramdisk_table_size // page) * page
        assert data[at:at + bootconfig] == blobs["bootconfig"]
        assert [(e["size"], e["type"], e["name"]) for e in d["vendor_ramdisks"]] == [
            (size, kind, f"{name}{i}") for i, (size, kind, name, _) in enumerate(fragments)]
        for i, e in enumerate(d["vendor_ramdisks"]):
            assert ramdisks[e["offset"]:e["offset"] + e["size"]] == frags[i]
            assert (tmp / f"out/vendor_ramdisk{i:02d}").read_bytes() == frags[i]
