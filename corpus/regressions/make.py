#!/usr/bin/env python3
"""Write the adversarial inputs of corpus/regressions/ and their manifest.

    python3 corpus/regressions/make.py [--check]

Each file is a small input built to stress one bound of kimage: decompression bombs of
every codec, wrappers nested past the depth limit, sizes and counts at their maximum,
offsets far past the end. The manifest (``manifest.json``) names what each file is, the
findings ``kimage check`` must report for it, and for files that once crashed or hung
kimage, the crash, where it was, and the fix. Crash inputs found by fuzzing
(``bench/robustness.py``, the harnesses in fuzz/) are added under ``CRASHES`` with their
bytes committed as found; the rest are rebuilt here (compressed streams depend on the
codec libraries' versions, so ``--check`` compares the manifest's expectations, not bytes).
"""

from __future__ import annotations

import argparse
import gzip
import json
import lzma
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from validator import seedcorpus as sc  # noqa: E402
from validator.formats.elf import EM_PPC64  # noqa: E402
from validator.formats.uimage.samples import uimage_bytes  # noqa: E402
from validator.formats.zboot.samples import zboot_bytes  # noqa: E402

MiB = 1 << 20


def _image() -> bytes:
    return sc.generate("arm64-image", sc.RandomChooser("regressions"), valid=True).data


def _gzip_stream(parts) -> bytes:
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join([co.compress(p) for p in parts] + [co.flush()])


def adversarial():
    """(name, what, expect, bytes)"""
    image = _image()
    zeros = bytes(MiB)
    nested = image
    for _ in range(12):
        nested = gzip.compress(nested, mtime=0)
    yield ("nested-gzip-12.bin", "an arm64 Image gzipped 12 times: past Limits.max_depth",
           ["layer/nesting-limit"], nested)
    yield ("gzip-bomb-96m.bin", "an Image followed by 96 MiB of zeros, gzip: a 1000:1 stream",
           ["layer/compressed"], _gzip_stream([image] + [zeros] * 96))
    import bz2
    yield ("bzip2-bomb-200m.bin", "an Image followed by 200 MiB of zeros, bzip2",
           ["layer/compressed"], bz2.compress(image + bytes(200 * MiB), 9))
    yield ("xz-dict-64m.bin", "xz -9 (64 MiB dictionary) of an Image and 100 MiB of zeros",
           ["layer/compressed"], lzma.compress(image + bytes(100 * MiB), preset=9))
    try:
        import zstandard
        params = zstandard.ZstdCompressionParameters(window_log=27, write_content_size=False,
                                                     compression_level=1)
        yield ("zstd-window-128m.bin", "zstd with a 128 MiB window and no content size",
               ["layer/compressed"],
               zstandard.ZstdCompressor(compression_params=params).compress(
                   image + bytes(200 * MiB)))
    except ImportError:
        pass
    yield ("zboot-gzip-bomb.bin", "a zboot whose gzip payload decodes to 96 MiB",
           ["layer/zboot"], zboot_bytes(_gzip_stream([image] + [zeros] * 96), "gzip"))
    yield ("zboot-size-max.bin", "zboot payload_size 0xffffffff",
           ["zboot/payload-outside-file"],
           zboot_bytes(gzip.compress(image, mtime=0), "gzip", payload_size=0xFFFFFFFF))
    ppc = sc.generate("ppc64-head", sc.RandomChooser("regressions"), valid=True).data
    elf = bytearray(sc.elf64(ppc, endian="big", machine=EM_PPC64))
    struct.pack_into(">H", elf, 0x38, 0xFFFF)
    yield ("elf-phnum-max.bin", "an ELF vmlinux with e_phnum 0xffff",
           ["elf/too-many-program-headers"], bytes(elf))
    elf = bytearray(sc.elf64(ppc, endian="big", machine=EM_PPC64))
    struct.pack_into(">Q", elf, 64 + 8, 1 << 63)
    yield ("elf-offset-huge.bin", "first PT_LOAD at p_offset 2^63", ["elf/truncated"],
           bytes(elf))
    elf = bytearray(sc.elf64(ppc, endian="big", machine=EM_PPC64))
    struct.pack_into(">Q", elf, 0x20, (1 << 64) - 8)
    yield ("elf-phoff-max.bin", "e_phoff at the top of the address space", ["elf/malformed"],
           bytes(elf))
    p = sc.arm64_params(sc.RandomChooser("pe"), "5.8", efi=True)
    pe = sc.pe_header(size_of_image=p["image_size"], entry=p["entry"], file_size=p["size"],
                      nsections=0xFFFF, opt_size=0xFFFF)
    yield ("pe-sections-max.bin", "an EFI-stub Image with 0xffff sections and optional header",
           ["pe/malformed"], sc.arm64_bytes(sc.arm64_header(p), p, pe=pe))
    yield ("uimage-size-max.bin", "uImage ih_size 0xffffffff", ["layer/lying-size"],
           uimage_bytes(image, comp=0, size=0xFFFFFFFF))
    yield ("android-page-zero.bin", "Android boot image with page_size 0",
           ["android/bad-header"], sc.android_bytes(image, version=0, page=0))
    yield ("android-size-max.bin", "Android boot image with kernel_size 0xffffffff",
           ["layer/lying-size"], sc.android_bytes(image, version=2, kernel_size=0xFFFFFFFF))
    boot = bytearray(sc.android_bytes(image, version=4, ramdisk=b"070701"))
    struct.pack_into("<I", boot, 12, 0xFFFFFFFF)  # ramdisk_size
    struct.pack_into("<I", boot, 1580, 0xFFFFFFFF)  # signature_size
    yield ("android-v4-sizes-max.bin", "boot image v4, ramdisk_size and signature_size "
           "0xffffffff", ["android/section-past-end"], bytes(boot))
    vendor = bytearray(sc.vendor_boot_bytes(version=4, ramdisks=(b"070701",)))
    struct.pack_into("<4I", vendor, 2112, 0xFFFFFFFF, 0x2000000, 108, 0xFFFFFFFF)
    yield ("vendor-boot-table-max.bin", "vendor_boot v4 with 2^25 ramdisk table entries and "
           "every v4 size 0xffffffff: 64 entries are read", ["android/vendor-boot",
           "android/section-past-end", "android/vendor-ramdisk-table"], bytes(vendor))
    vendor = bytearray(sc.vendor_boot_bytes(version=4, page=65536, ramdisks=(b"070701",)))
    for at in (24, 2100, 2112, 2124):
        struct.pack_into("<I", vendor, at, 0xFFFFFFFF)
    struct.pack_into("<I", vendor, 2116, 0xFFFFFFFF)
    yield ("vendor-boot-sizes-max.bin", "vendor_boot v4, 64 KiB pages, every size and count "
           "0xffffffff", ["android/vendor-boot", "android/section-past-end",
                          "android/vendor-ramdisk-table"], bytes(vendor))
    ar = b"!<arch>\n" + b"debian-binary   0           0     0     100644  9999999999`\n"
    yield ("deb-member-size-huge.bin", "an ar archive whose first member claims 9.3 GB",
           ["layer/lying-size"], ar + b"2.0\n" + bytes(64))
    lz4 = bytearray(b"\x02\x21\x4c\x18" + struct.pack("<I", 0xFFFFFFF0) + bytes(64))
    yield ("lz4-legacy-block-max.bin", "lz4 legacy frame whose block claims 4 GiB",
           ["layer/corrupt"], bytes(lz4))
    inner = zboot_bytes(gzip.compress(image, mtime=0), "gzip")
    outer = zboot_bytes(gzip.compress(inner, mtime=0), "gzip")
    yield ("zboot-in-zboot.bin", "a zboot whose payload is another zboot (the outer stub "
           "starts the inner one, which EFI can)", ["layer/zboot"], outer)


#: Inputs that crashed or hung kimage, committed as found: name -> manifest entry.
CRASHES: dict[str, dict] = {
    "rpm-arch-tag-int.bin": {
        "what": "an rpm whose ARCH tag (1022) has type INT32, not STRING",
        "expect": ["rpm/bad-header"],
        "crash": "TypeError: can only concatenate str (not \"int\") to str",
        "where": "validator/formats/rpm/decoder.py _identity (nevra)",
        "found": "fuzz/layers_fuzzer.py (the fallback driver), rpm seeds",
        "fix": "rpm header entries are read by their declared type (Header.string, "
               "strings, ints): another type is rpm/bad-header",
    },
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="fail when the manifest differs from a rebuild")
    args = ap.parse_args()
    entries = []
    for name, what, expect, data in adversarial():
        if not args.check:
            (HERE / name).write_bytes(data)
        entries.append({"path": name, "origin": "adversarial", "what": what,
                        "expect": expect})
    for name, entry in sorted(CRASHES.items()):
        entries.append({"path": name, "origin": "crash", **entry})
    text = json.dumps({"format": "kimage-regressions/1", "files": entries}, indent=1) + "\n"
    path = HERE / "manifest.json"
    if args.check:
        if path.read_text() != text:
            print("corpus/regressions/manifest.json is stale", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {len(entries)} entries to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
