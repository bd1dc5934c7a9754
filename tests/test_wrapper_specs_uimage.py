"""specs/uimage.ksy against U-Boot's own tools: images mkimage makes from drawn
parameters (arch, os, type, compression, addresses, name, time) parse to those parameters
(mkimage's short names are the spec's enum ids), and every field agrees with what
`dumpimage -l` lists, for them, for the corpus uImage and for mutated headers (with a
recomputed header CRC, so that dumpimage reads them as legacy images). Also compared with
kimage's uImage layer decoder (validator/formats/uimage/decoder.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.wrapper_corpus import kernel_file
from validator._kaitai.uimage import Uimage
from validator.pipeline import analyse

#: U-Boot v2023.01 boot/image.c: the long names dumpimage prints, for the codes drawn here
ARCH = {"arm": "ARM", "arm64": "AArch64", "powerpc": "PowerPC", "x86": "Intel x86",
        "x86_64": "AMD x86_64", "riscv": "RISC-V"}
OS = {"linux": "Linux", "u-boot": "U-Boot"}
TYPE = {"kernel": "Kernel Image", "kernel_noload": "Kernel Image (no loading done)",
        "ramdisk": "RAMDisk Image", "standalone": "Standalone Program",
        "firmware": "Firmware"}
COMP = {"none": "uncompressed", "gzip": "gzip compressed", "bzip2": "bzip2 compressed",
        "lzma": "lzma compressed", "lzo": "lzo compressed", "lz4": "lz4 compressed",
        "zstd": "zstd compressed"}
LONG = {v: k for table in (ARCH, OS, TYPE, COMP) for k, v in table.items()}

pytestmark = pytest.mark.skipif(shutil.which("mkimage") is None or
                                shutil.which("dumpimage") is None,
                                reason="u-boot-tools (mkimage, dumpimage) not installed")


def dumpimage(path: Path) -> dict | None:
    """`dumpimage -l`'s listing of a legacy image, or None when it reads no legacy image."""
    p = subprocess.run(["dumpimage", "-l", str(path)], capture_output=True, timeout=30,
                       encoding="latin-1", env={**os.environ, "TZ": "UTC"})
    lines = dict(re.findall(r"^([A-Za-z ]+):[ \t]*(.*)$", p.stdout, re.M))
    if p.returncode != 0 or "Image Name" not in lines or "Image Type" not in lines:
        return None
    # U-Boot prints "Image Name:   " (three spaces) then the name, which may itself start
    # with blanks: take exactly the separator off
    name = re.search(r"^Image Name:   (.*)$", p.stdout, re.M)
    return {"name": name.group(1) if name else lines["Image Name"],
            "time": time.strftime("%a %b %e %H:%M:%S %Y",
                                  time.strptime(lines["Created"], "%a %b %d %H:%M:%S %Y")),
            "type": lines["Image Type"],
            "size": int(lines["Data Size"].split()[0]),
            "load": int(lines["Load Address"], 16), "ep": int(lines["Entry Point"], 16)}


def spec_listing(h: Uimage) -> dict:
    """The spec's fields in dumpimage's terms (time in UTC as dumpimage prints it)."""
    def long(enum_value, table):
        key = enum_value.name.replace("_", "-") if enum_value.name == "u_boot" \
            else enum_value.name
        return table[key]
    comp = long(h.ih_comp, COMP)
    return {"name": h.ih_name,
            "time": time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(h.ih_time)),
            "type": f"{long(h.ih_arch, ARCH)} {long(h.ih_os, OS)} "
                    f"{long(h.ih_type, TYPE)} ({comp})",
            "size": h.ih_size, "load": h.ih_load, "ep": h.ih_ep}


def test_corpus_uimage_matches_dumpimage(tmp_path):
    path = kernel_file("arm64-4k-le-efi", "uImage.gz", tmp_path)
    h = Uimage.from_file(str(path))
    assert spec_listing(h) == dumpimage(path)
    assert (h.ih_arch.name, h.ih_os.name, h.ih_type.name, h.ih_comp.name) == (
        "arm64", "linux", "kernel", "gzip")
    assert h.payload_end == path.stat().st_size


@settings(max_examples=30, deadline=None)
@given(arch=st.sampled_from(sorted(ARCH)), os_=st.sampled_from(sorted(OS)),
       type_=st.sampled_from(sorted(TYPE)), comp=st.sampled_from(sorted(COMP)),
       load=st.integers(0, 2**32 - 1), ep=st.integers(0, 2**32 - 1),
       name=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=31),
       epoch=st.integers(0, 2**31 - 1), size=st.integers(1, 4096))
def test_images_mkimage_makes(arch, os_, type_, comp, load, ep, name, epoch, size):
    with tempfile.TemporaryDirectory() as tmp:
        payload, out = Path(tmp, "payload"), Path(tmp, "uImage")
        payload.write_bytes(os.urandom(size))
        subprocess.run(["mkimage", "-A", arch, "-O", os_, "-T", type_, "-C", comp,
                        "-a", f"{load:x}", "-e", f"{ep:x}", "-n", name, "-d", str(payload),
                        str(out)], check=True, capture_output=True, timeout=30,
                       env={**os.environ, "SOURCE_DATE_EPOCH": str(epoch)})
        h = Uimage.from_file(str(out))
        assert (h.ih_arch.name, h.ih_os.name.replace("u_boot", "u-boot"), h.ih_type.name,
                h.ih_comp.name) == (arch, os_, type_, comp)
        assert (h.ih_load, h.ih_ep, h.ih_name, h.ih_time, h.ih_size) == (
            load, ep, name, epoch, size)
        assert h.ih_dcrc == zlib.crc32(payload.read_bytes())
        assert spec_listing(h) == dumpimage(out)
        # the check path's uImage layer (the generated parser) against what mkimage wrote
        d = analyse(out).layers[0].details
        assert (d["load_address"], d["entry_point"], d["name"], d["time"], d["data_size"],
                d["header_crc_ok"], d["compression"]) == (
            load, ep, name, epoch, size, True, None if comp == "none" else comp)


@settings(max_examples=30, deadline=None)
@given(edits=st.lists(st.tuples(st.sampled_from([*range(8, 12), *range(16, 24),
                                                 *range(28, 64)]), st.integers(0, 255)),
                      max_size=6))
def test_mutated_headers_match_dumpimage(edits):
    """Mutations of everything but the magic, the size and the CRCs, with the header CRC
    recomputed: whenever dumpimage lists a legacy image, the spec reads the same."""
    with tempfile.TemporaryDirectory() as tmp:
        src = kernel_file("arm64-4k-le-efi", "uImage.gz", Path(tmp))
        blob = bytearray(src.read_bytes())
        for pos, value in edits:
            blob[pos] = value
        blob[4:8] = b"\0\0\0\0"
        blob[4:8] = zlib.crc32(bytes(blob[:64])).to_bytes(4, "big")
        path = Path(tmp, "mutated")
        path.write_bytes(blob)
        listed = dumpimage(path)
        h = Uimage.from_bytes(bytes(blob[:64]))
        assert h.ih_hcrc == int.from_bytes(blob[4:8], "big")
        if listed is None:
            return
        ours = dict(spec_listing_raw(h))
        assert ours["size"] == listed["size"] and ours["load"] == listed["load"]
        assert ours["ep"] == listed["ep"] and ours["time"] == listed["time"]
        if not re.search(r"[\x00-\x1f]", h.ih_name):  # a line break cuts the listing
            assert listed["name"] == h.ih_name
        words = listed["type"]
        for value, table in ((h.ih_arch, ARCH), (h.ih_os, OS), (h.ih_type, TYPE),
                             (h.ih_comp, COMP)):
            if isinstance(value, int) and not hasattr(value, "name"):
                continue  # a code the spec names none of
            key = value.name if value.name != "u_boot" else "u-boot"
            if key in table:
                assert table[key] in words


def spec_listing_raw(h: Uimage):
    yield "size", h.ih_size
    yield "load", h.ih_load
    yield "ep", h.ih_ep
    yield "time", time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(h.ih_time))
