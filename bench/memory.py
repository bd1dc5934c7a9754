"""Part 4, memory: peak RSS of ``kimage check`` on a raw arm64 Image, an EFI zboot image
and a decompression bomb, each at two sizes to show that memory is flat in image size.

* raw: the Debian arm64 Image materialised from its excerpt (32 MB, sparse), and the
  same file extended to 320 MB (the banner is found at the same place), and a 320 MB
  sparse file with only the header, so that the banner search reads it all.
* zboot: a zboot header ("MZ\\0\\0zimg", gzip) around a gzip payload of an Image made of
  the real header, the real banner and random bytes, so that the file is about 30 MB
  (and 60 MB, still under the 64 MiB cap on decoded output) and does not compress.
* bomb: ``Image.gz``, the real header followed by 1 GiB (and 4 GiB) of zeros, gzipped.

zboot and bomb run only when ``validator.formats.zboot`` and ``compression`` exist.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import struct
import zlib
from pathlib import Path

from bench.common import ROOT, VENV_BIN, spawn

MiB = 1 << 20
TARGET_MIB = 64


def _real(name_part: str):
    from corpus.materialise import excerpts

    for e in excerpts():
        if name_part in e.parent.name:
            return e
    return None


def raw_images(d: Path) -> dict[str, Path]:
    from corpus.materialise import materialise

    excerpt = _real("arm64")
    if excerpt is None:
        return {}
    small = materialise(excerpt, d / "Image-32M")
    big = materialise(excerpt, d / "Image-320M")
    os.truncate(big, 320 * MiB)
    bare = d / "Image-320M-no-banner"
    with open(bare, "wb") as f:
        f.write(_read(small, 0, 4096))
        f.truncate(320 * MiB)
    return {"raw 32 MB": small, "raw 320 MB": big, "raw 320 MB, no banner": bare}


def _read(path: Path, offset: int, n: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(n)


def _image_bytes(small: Path, size: int, seed: int) -> bytes:
    """An Image of ``size`` bytes: the real first 4 KiB and banner, random bytes elsewhere."""
    import random

    rng = random.Random(seed)
    data = bytearray(rng.randbytes(size))
    data[:4096] = _read(small, 0, 4096)
    banner = b"Linux version 6.1.0-50-arm64 (debian-kernel@lists.debian.org) (gcc) #1 SMP\n\0"
    at = size // 2
    data[at:at + len(banner)] = banner
    return bytes(data)


def zboot_image(small: Path, path: Path, size: int) -> Path:
    payload = gzip.compress(_image_bytes(small, size, seed=size), compresslevel=1, mtime=0)
    header = bytearray(0x40)
    header[0:8] = b"MZ\0\0zimg"
    struct.pack_into("<II", header, 8, 0x40, len(payload))
    header[0x18:0x1D] = b"gzip\0"
    path.write_bytes(bytes(header) + payload)
    return path


def bomb(small: Path, path: Path, zeros: int) -> Path:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    block = bytes(MiB)
    with open(path, "wb") as f:
        f.write(comp.compress(_read(small, 0, 4096)))
        for _ in range(zeros // MiB):
            f.write(comp.compress(block))
        f.write(comp.flush())
    return path


def layers_present() -> bool:
    return all(importlib.util.find_spec(f"validator.formats.{m}") is not None
               for m in ("zboot", "compression"))


def measure(workdir: Path, runs: int = 3) -> dict:
    d = workdir / "memory"
    d.mkdir(parents=True, exist_ok=True)
    images = raw_images(d)
    small = images.get("raw 32 MB")
    notes = []
    if small is not None and layers_present():
        images["zboot 30 MB"] = zboot_image(small, d / "vmlinuz-30M.efi", 30 * MiB)
        images["zboot 60 MB"] = zboot_image(small, d / "vmlinuz-60M.efi", 60 * MiB)
        images["bomb 1 GiB of zeros (Image.gz)"] = bomb(small, d / "Image-1G.gz", 1 << 30)
        images["bomb 4 GiB of zeros (Image.gz)"] = bomb(small, d / "Image-4G.gz", 4 << 30)
    else:
        notes.append("zboot and bomb skipped: validator.formats.zboot/compression absent")
    tiny = ROOT / "corpus/synthetic/arm64/v5.8-4k-le-anywhere-efi.img"
    kimage = str(VENV_BIN / "kimage")
    python = str(VENV_BIN / "python")
    baseline = {
        "python3 -I -c pass": max(spawn([python, "-I", "-c", "pass"]).maxrss
                                  for _ in range(runs)),
        "kimage check, 4 KiB synthetic Image": max(
            spawn([kimage, "check", str(tiny)], cwd=workdir).maxrss for _ in range(runs)),
    }
    rows = {}
    for label, path in images.items():
        rs = [spawn([kimage, "check", str(path)], cwd=workdir) for _ in range(runs)]
        peak = max(r.maxrss for r in rs)
        rows[label] = {"file_size": path.stat().st_size, "maxrss_kib": peak,
                       "maxrss_mib": round(peak / 1024, 1),
                       "over_tiny_image_mib": round(
                           (peak - baseline["kimage check, 4 KiB synthetic Image"]) / 1024, 1),
                       "wall_ms": round(sorted(r.wall for r in rs)[len(rs) // 2] * 1000, 1),
                       "exit": sorted({r.status for r in rs}),
                       "within_target": peak <= TARGET_MIB * 1024}
    return {"target_mib": TARGET_MIB, "baseline_kib": baseline, "images": rows,
            "notes": notes}
