#!/usr/bin/env python3
"""Bytes read, time and peak RSS of kimage on 30 MB compressed and zboot kernels.

    .venv/bin/python bench/bench_layers.py [--size-mb 30] [--keep DIR]

Builds, in a temporary directory, a 30 MB "Image" (the real tinyconfig arm64 Image of
corpus/kernels/arm64-4k-le-efi at its start, then filler: random bytes with a little
repeated text, so that the compressed files are about 30 MB too; the kernel banner at 45%,
where real kernels keep it), and wraps it as Image.gz, as a zboot vmlinuz.efi with a gzip
payload and with a zstd payload (window 2^27, as the kernel's zstd22). Each is analysed in a fresh
subprocess, as ``kimage inspect`` does (default ``Limits``), and with
``Limits(decode_all=True)`` (a full, bounded decode). Printed per file: bytes read from the
input (``Source.bytes_read``), wall time, peak RSS of the process (ru_maxrss; the
interpreter and imports included), and the kernel version found. Targets (issue 4):
inspect reads at most 1 MiB and stays under 64 MiB RSS.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus/kernels"
MiB = 1 << 20

PROBE = r"""
import json, sys, time
def hwm():  # this process's peak RSS (VmHWM; ru_maxrss would carry the parent's over)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
import validator.source as source
from validator.pipeline import analyse, Limits
reads = []
close = source.Source.close
def counting_close(self):
    reads.append(self.bytes_read)
    close(self)
source.Source.close = counting_close
t = time.perf_counter()
r = analyse(sys.argv[1], Limits(decode_all=sys.argv[2] == "full"))
dt = time.perf_counter() - t
print(json.dumps({"read": reads[0], "seconds": dt, "format": r.format,
                  "version": r.facts.get("kernel_version"), "payload": r.payload_size,
                  "layers": [layer.kind for layer in r.layers],
                  "findings": [f.rule for f in r.findings],
                  "rss_kib": hwm()}))
"""


def make_image(size: int) -> bytes:
    head = gzip.decompress((CORPUS / "arm64-4k-le-efi/Image.gz").read_bytes())
    rng = random.Random(4)
    text = b"".join(rng.choice([b"kimage ", b"loader ", b"header ", b"\0\0\0\0", b"zboot "])
                    for _ in range(4096))
    out = bytearray(head.replace(b"Linux version ", b"Linux versiox "))  # one banner only
    while len(out) < size:
        out += rng.randbytes(60 * 1024) + text[:2048]  # about 1.02:1 with gzip -9
    banner = b"Linux version 6.1.176-bench (kimage@bench) (gcc 12.2.0) #1 SMP\n\0"
    at = int(size * 0.45)
    out[at:at + len(banner)] = banner
    return bytes(out[:size])


def zboot(payload: bytes, name: bytes, template: Path, trailer: bytes = b"") -> bytes:
    """The real zboot file's EFI stub with another payload (and 6.1's size trailer for
    non-gzip codecs) put in its place."""
    real = template.read_bytes()
    off, size = struct.unpack_from("<II", real, 8)
    stub = bytearray(real[:off])
    struct.pack_into("<II", stub, 8, off, len(payload))
    stub[0x18:0x38] = name.ljust(0x20, b"\0")
    tail = real[off + size:]
    return bytes(stub) + payload + trailer + tail


def build(dir: Path, size: int) -> dict[str, Path]:
    import zstandard

    image = make_image(size)
    gz = gzip.compress(image, compresslevel=9, mtime=0)
    params = zstandard.ZstdCompressionParameters.from_level(6, window_log=27)
    zs = zstandard.ZstdCompressor(compression_params=params).compress(image)
    files = {
        "Image": image,
        "Image.gz": gz,
        "vmlinuz.efi (zboot gzip)": zboot(gz, b"gzip",
                                          CORPUS / "arm64-4k-le-zboot-gzip/vmlinuz.efi"),
        "vmlinuz.efi (zboot zstd22)": zboot(zs, b"zstd22",
                                            CORPUS / "arm64-4k-le-zboot-zstd/vmlinuz.efi",
                                            struct.pack("<I", len(image))),
    }
    paths = {}
    for name, data in files.items():
        path = dir / name.replace(" ", "_").replace("(", "").replace(")", "")
        path.write_bytes(data)
        paths[name] = path
    return paths


def probe(path: Path, mode: str) -> dict:
    p = subprocess.run([sys.executable, "-c", PROBE, str(path), mode], cwd=ROOT,
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=30)
    ap.add_argument("--keep", type=Path, help="keep the generated files here")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kimage-bench-layers-"))
    try:
        paths = build(tmp, args.size_mb * MiB)
        print(f"{'file':<28} {'size':>9} {'mode':<8} {'read':>10} {'time':>8} {'RSS':>8}  "
              f"version / findings")
        ok = True
        for name, path in paths.items():
            for mode in ("inspect", "full"):
                r = probe(path, mode)
                size = path.stat().st_size
                print(f"{name:<28} {size / MiB:>7.1f}Mi {mode:<8} {r['read'] / MiB:>8.2f}Mi "
                      f"{r['seconds'] * 1000:>6.0f}ms {r['rss_kib'] / 1024:>6.1f}Mi  "
                      f"{r['version']} {' '.join(r['findings'])}".rstrip())
                if mode == "inspect" and name != "Image":
                    ok &= r["read"] <= MiB and r["rss_kib"] < 64 * 1024
        print("targets (inspect of compressed/zboot: read <= 1 MiB, RSS < 64 MiB):",
              "met" if ok else "NOT met")
        print("(Image, raw: inspect scans the whole file for the banner, as before)")
        return 0 if ok else 1
    finally:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for p in tmp.iterdir():
                shutil.copy(p, args.keep / p.name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
