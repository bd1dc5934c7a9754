#!/usr/bin/env python3
"""Store small artefacts of the cross-built kernels (corpus/build-kernels.sh) with facts
from independent tools.

Usage (from the repository root, after corpus/build-kernels.sh has built OUT):

    python3 corpus/kernels/make_corpus.py --out-dir /tmp/kbuild/out

For every variant directory in OUT, ``corpus/kernels/<variant>/`` gets:

* the kernel files, stored whole when they are small compressed files (``Image.gz``,
  ``vmlinuz.efi``: a compressed payload cannot be excerpted), else as a
  ``kimage-excerpt/1`` document (the byte ranges a loader's header reader and the banner
  search touch; see corpus/materialise.py);
* containers a distro or board hands over, built here by their real tools from the stored
  ``Image.gz`` / ``Image``: a U-Boot uImage (mkimage), Android boot images v0 (Image.gz-dtb)
  and v3 (mkbootimg), and a Debian package (dpkg-deb). uImage and boot images are kept as
  ``kimage-parts/1`` documents (literal header bytes plus a reference to the stored
  Image.gz; sha256 of the tool's output), the .deb whole;
* ``config``, ``symbols`` (System.map lines of a fixed symbol list) and ``expected.json``:
  the facts of each file, every one backed by the command that gave it (file, od, readelf,
  nm, zcat, zstd, dumpimage, unpack_bootimg, dpkg-deb, objdump, python's gzip/zstandard
  modules as independent decoders). Nothing here imports kimage.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYMBOLS = ["_text", "_stext", "_end", "_edata", "primary_entry", "__efistub_efi_pe_entry",
           "__run_at_load", "__secondary_hold", "__secondary_hold_spinloop",
           "__secondary_hold_acknowledge", "__start"]
BANNER = re.compile(rb"Linux version (\d+\.\d+[\x21-\x7e]*) \(")
EPOCH = "1700000000"  # SOURCE_DATE_EPOCH for the container tools
KEEP_WHOLE_MAX = 1 << 20


def sh(cmd: str, cwd: Path, evidence: list, fact: str, binary: bool = False):
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, LC_ALL="C", TZ="UTC")
    p = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, env=env, check=True)
    out = p.stdout
    text = out.decode("latin-1") if not binary else out[:64].hex()
    evidence.append({"fact": fact, "command": cmd, "output": text.strip()[:2000]})
    return out if binary else text


def header_facts(image: bytes) -> dict:
    """arm64 Image header facts by struct (booting.rst)."""
    c0, c1, to, size, flags = struct.unpack_from("<IIQQQ", image)
    magic, res5 = struct.unpack_from("<4sI", image, 56)
    return {
        "arch": "arm64",
        "endianness": "big" if flags & 1 else "little",
        "page_size": {1: 4096, 2: 16384, 3: 65536}.get((flags >> 1) & 3),
        "placement": "anywhere" if flags & 8 else "dram-base",
        "text_offset": to,
        "image_size": size,
        "efi_stub": image[:2] == b"MZ",
    }


ARM64_PY = ("python3 -c \"import struct,sys; d=sys.stdin.buffer.read(64); "
            "c0,c1,to,sz,fl=struct.unpack_from('<IIQQQ',d); m,r5=struct.unpack_from('<4sI',d,56); "
            "print(f'mz={d[:2]==b\\\"MZ\\\"} text_offset={to} image_size={sz} flags={fl} "
            "be={fl&1} page={(fl>>1)&3} phys_base={(fl>>3)&1} magic={m} pe_offset={r5}')\"")


def banner_of(data: bytes) -> str | None:
    m = BANNER.search(data)
    return m.group(1).decode() if m else None


def excerpt(path: Path, ranges: list[tuple[int, int]], out: Path, note: str) -> None:
    data = path.read_bytes()
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        end = min(end, len(data))
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    doc = {
        "format": "kimage-excerpt/1",
        "source": {"name": path.name, "size": len(data),
                   "sha256": hashlib.sha256(data).hexdigest(), "note": note},
        "ranges": [{"offset": s, "length": e - s, "hex": data[s:e].hex()} for s, e in merged],
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")


def parts(container: Path, pieces: dict[str, Path], out: Path) -> None:
    """A kimage-parts/1 document: the container as literal bytes (zero runs collapsed)
    and references to stored files found inside it."""
    data = container.read_bytes()
    found = []
    for ref, piece in pieces.items():
        blob = piece.read_bytes()
        at = data.find(blob)
        if at < 0:
            raise SystemExit(f"{piece} not found in {container}")
        found.append((at, at + len(blob), ref))
    found.sort()
    out_parts: list[dict] = []
    pos = 0
    for start, end, ref in found + [(len(data), len(data), None)]:
        out_parts += _literal(data[pos:start])
        if ref is not None:
            out_parts.append({"file": ref})
        pos = end
    doc = {"format": "kimage-parts/1", "size": len(data),
           "sha256": hashlib.sha256(data).hexdigest(), "parts": out_parts}
    out.write_text(json.dumps(doc, indent=1) + "\n")


def _literal(data: bytes) -> list[dict]:
    out = []
    for m in re.finditer(rb"(\0{64,})|([^\0]+|\0{1,63})", data, re.S):
        if m.group(1):
            out.append({"zeros": len(m.group(1))})
        elif out and "hex" in out[-1]:
            out[-1]["hex"] += m.group(2).hex()
        else:
            out.append({"hex": m.group(2).hex()})
    return out


def symbols(src: Path, out: Path) -> None:
    keep = []
    for line in (src / "System.map").read_text().splitlines():
        parts_ = line.split()
        if len(parts_) == 3 and parts_[2] in SYMBOLS:
            keep.append(line)
    out.write_text("\n".join(keep) + "\n")


def arm64_variant(name: str, src: Path, dst: Path) -> list[dict]:
    images = []
    image = (src / "Image").read_bytes()
    ev: list = []
    facts = header_facts(image)
    sh(f"{ARM64_PY} < Image", src, ev, "header")
    sh("file -b Image", src, ev, "arch/endianness/page_size")
    facts["kernel_version"] = banner_of(image)
    sh("grep -a -o -m1 'Linux version [0-9][^ ]* (' Image", src, ev, "kernel_version")
    facts["compression"] = None
    banner_at = image.find(b"Linux version " + facts["kernel_version"].encode())
    pe_end = 0x1000 if facts["efi_stub"] else 0x40
    excerpt(src / "Image", [(0, pe_end), (banner_at, banner_at + 256)],
            dst / "Image.excerpt.json", f"arch/arm64/boot/Image of {name}")
    derived = {}
    if facts["efi_stub"]:
        pe_off = struct.unpack_from("<I", image, 0x3C)[0]
        machine = struct.unpack_from("<H", image, pe_off + 4)[0]
        soi = struct.unpack_from("<I", image, pe_off + 24 + 56)[0]
        derived = {"pe_machine": machine, "size_of_image": soi}
        sh("aarch64-linux-gnu-objdump -p Image | grep -E 'file format|SizeOfImage|"
           "AddressOfEntryPoint|Subsystem'", src, ev, "pe")
    images.append({"file": "Image.excerpt.json", "kind": "excerpt", "facts": facts,
                   "layers": [], "pe": derived, "payload_size": len(image), "evidence": ev})

    if (src / "Image.gz").exists():
        shutil.copyfile(src / "Image.gz", dst / "Image.gz")
        ev = []
        sh("file -b Image.gz", dst, ev, "compression")
        sh(f"zcat Image.gz | {ARM64_PY}", dst, ev, "header")
        size = int(sh("zcat Image.gz | wc -c", dst, ev, "decoded_size"))
        isize = struct.unpack("<I", (dst / "Image.gz").read_bytes()[-4:])[0]
        inner = gzip.decompress((dst / "Image.gz").read_bytes())  # python's gzip decoder
        assert len(inner) == size == isize and inner == image
        f = dict(header_facts(inner), kernel_version=banner_of(inner), compression="gzip")
        images.append({"file": "Image.gz", "kind": "whole", "facts": f,
                       "layers": [{"kind": "gzip", "decoded_size": size}],
                       "payload_size": size, "evidence": ev})
        images += containers(name, src, dst, inner)

    if (src / "vmlinuz.efi").exists():
        shutil.copyfile(src / "vmlinuz.efi", dst / "vmlinuz.efi")
        images.append(zboot_entry(dst, image))
    return images


def zboot_entry(dst: Path, image: bytes) -> dict:
    ev: list = []
    data = (dst / "vmlinuz.efi").read_bytes()
    sh("od -A x -t x1 -N 64 vmlinuz.efi", dst, ev, "zboot header")
    sh("file -b vmlinuz.efi", dst, ev, "pe")
    sh("aarch64-linux-gnu-objdump -p vmlinuz.efi | grep -E 'file format|SizeOfImage|"
       "Subsystem|DllCharacteristics'", dst, ev, "pe")
    off, size = struct.unpack_from("<II", data, 8)
    name = data[0x18:0x38].split(b"\0")[0].decode()
    payload = data[off:off + size]
    if name == "gzip":
        cmd = f"tail -c +{off + 1} vmlinuz.efi | head -c {size} | zcat"
        inner = gzip.decompress(payload)
    else:
        cmd = f"tail -c +{off + 1} vmlinuz.efi | head -c {size} | zstd -dc"
        inner = subprocess.run(["zstd", "-dc"], input=payload, capture_output=True,
                               check=True).stdout
    sh(f"{cmd} | {ARM64_PY}", dst, ev, "header")
    decoded = int(sh(f"{cmd} | wc -c", dst, ev, "decoded_size"))
    assert decoded == len(inner) and inner == image
    codec = {"gzip": "gzip", "zstd22": "zstd", "zstd": "zstd"}[name]
    facts = dict(header_facts(inner), kernel_version=banner_of(inner), compression=codec)
    return {"file": "vmlinuz.efi", "kind": "whole", "facts": facts,
            "layers": [{"kind": "zboot", "payload_offset": off, "payload_size": size,
                        "compression": name},
                       {"kind": codec, "decoded_size": decoded}],
            "payload_size": decoded, "evidence": ev}


def containers(name: str, src: Path, dst: Path, inner: bytes) -> list[dict]:
    """uImage (mkimage), Android boot images (mkbootimg), a .deb (dpkg-deb), built here."""
    out = []
    base = dict(header_facts(inner), kernel_version=banner_of(inner))
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        shutil.copyfile(dst / "Image.gz", t / "Image.gz")
        ev: list = []
        sh("mkimage -A arm64 -O linux -T kernel -C gzip -a 0x80000 -e 0x80000 "
           "-n Linux-tiny -d Image.gz uImage.gz", t, ev, "build")
        sh("dumpimage -l uImage.gz", t, ev, "uimage")
        sh("file -b uImage.gz", t, ev, "uimage")
        parts(t / "uImage.gz", {"Image.gz": t / "Image.gz"}, dst / "uImage.gz.parts.json")
        out.append({"file": "uImage.gz.parts.json", "kind": "parts",
                    "facts": dict(base, compression="gzip"),
                    "layers": [{"kind": "uimage", "arch": "arm64", "os": "linux",
                                "type": "kernel", "compression": "gzip",
                                "data_size": (t / "Image.gz").stat().st_size},
                               {"kind": "gzip", "decoded_size": len(inner)}],
                    "payload_size": len(inner), "evidence": ev})

        # A tiny device tree (no dtc needed: the minimal FDT an empty "/" node makes).
        dtb = _empty_fdt()
        (t / "Image.gz-dtb").write_bytes((t / "Image.gz").read_bytes() + dtb)
        (t / "ramdisk").write_bytes(b"kimage corpus ramdisk\n")
        for version, kernel, page in ((0, "Image.gz-dtb", 2048), (3, "Image.gz", 4096)):
            ev = []
            img = f"boot-v{version}.img"
            sh(f"mkbootimg --kernel {kernel} --ramdisk ramdisk --header_version {version} "
               f"--pagesize {page} --cmdline console=ttyAMA0 -o {img}", t, ev, "build")
            sh(f"unpack_bootimg --boot_img {img} --out unpacked-{version} | head -20", t, ev,
               "android")
            parts(t / img, {"Image.gz": t / "Image.gz"}, dst / f"{img}.parts.json")
            layer = {"kind": "gzip", "decoded_size": len(inner)}
            if kernel == "Image.gz-dtb":
                layer.update(trailing_bytes=len(dtb), appended_dtb=True)
            out.append({"file": f"{img}.parts.json", "kind": "parts",
                        "facts": dict(base, compression="gzip"),
                        "layers": [{"kind": "android-boot", "header_version": version,
                                    "page_size": page,
                                    "kernel_size": (t / kernel).stat().st_size}, layer],
                        "payload_size": len(inner), "evidence": ev})

        ev = []
        pkg = t / "pkg"
        (pkg / "DEBIAN").mkdir(parents=True)
        (pkg / "boot").mkdir()
        (pkg / "boot" / "vmlinuz-6.1.176-tiny").write_bytes(inner)
        shutil.copyfile(src / "config", pkg / "boot" / "config-6.1.176-tiny")
        (pkg / "DEBIAN" / "control").write_text(
            "Package: linux-image-6.1.176-tiny\nVersion: 6.1.176-1\nArchitecture: arm64\n"
            "Maintainer: kimage corpus <corpus@invalid>\nDescription: tinyconfig kernel "
            f"({name}) for kimage's corpus\n")
        deb = "linux-image-6.1.176-tiny_6.1.176-1_arm64.deb"
        sh(f"dpkg-deb -Zxz -z9 --root-owner-group --build pkg {deb}", t, ev, "build")
        sh(f"dpkg-deb -c {deb}", t, ev, "deb")
        sh(f"ar t {deb}", t, ev, "deb")
        shutil.copyfile(t / deb, dst / deb)
        out.append({"file": deb, "kind": "whole", "facts": dict(base, compression=None),
                    "layers": [{"kind": "deb", "data_member": "data.tar.xz"},
                               {"kind": "xz"},
                               {"kind": "tar", "member": "./boot/vmlinuz-6.1.176-tiny",
                                "config_member": "./boot/config-6.1.176-tiny"}],
                    "payload_size": len(inner), "evidence": ev})
    return out


def _empty_fdt() -> bytes:
    """A valid flattened device tree with an empty root node (devicetree spec 5.2)."""
    struct_block = struct.pack(">II", 1, 0) + struct.pack(">I", 2) + struct.pack(">I", 9)
    off_rsv = 40
    off_struct = off_rsv + 16
    off_strings = off_struct + len(struct_block)
    total = off_strings
    header = struct.pack(">10I", 0xD00DFEED, total, off_struct, off_strings, off_rsv, 17, 16,
                         0, 0, len(struct_block))
    return header + bytes(16) + struct_block


def elf_variant(name: str, src: Path, dst: Path) -> list[dict]:
    ev: list = []
    vmlinux = (src / "vmlinux").read_bytes()
    out = sh("readelf -h -l -W vmlinux", src, ev, "elf")
    first = next(line.split() for line in out.splitlines() if line.strip().startswith("LOAD"))
    head_off = int(first[1], 16)
    le = vmlinux[5] == 1
    e_phoff = struct.unpack_from("<Q" if le else ">Q", vmlinux, 32)[0]
    banner = banner_of(vmlinux)
    at = vmlinux.find(b"Linux version " + banner.encode())
    sh(f"od -A x -t x1 -j {head_off} -N 256 vmlinux", src, ev, "head")
    sh("grep -a -o -m1 'Linux version [0-9][^ ]* (' vmlinux", src, ev, "kernel_version")
    config = (src / "config").read_text()
    relocatable = "CONFIG_RELOCATABLE=y" in config
    sh("grep -E '^CONFIG_RELOCATABLE=|^# CONFIG_RELOCATABLE ' config", src, ev, "relocatable")
    word = vmlinux[head_off + 0x5C:head_off + 0x60]
    run = struct.unpack("<I" if le else ">I", word)[0]
    facts = {"arch": "ppc64", "endianness": "little" if le else "big",
             "kernel_version": banner, "compression": None,
             "run_at_load": "run0" if run == 0x72756E30 else run}
    if not name.startswith("ppc64e"):
        facts["relocatable"] = relocatable
    phdr_end = e_phoff + 56 * 8
    excerpt(src / "vmlinux", [(0, max(0x40, phdr_end)), (head_off, head_off + 0x1000),
                              (at, at + 256)],
            dst / "vmlinux.excerpt.json", f"vmlinux of {name}")
    return [{"file": "vmlinux.excerpt.json", "kind": "excerpt", "facts": facts,
             "layers": [{"kind": "elf", "payload_offset": head_off}],
             "payload_size": None, "evidence": ev}]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--dest", type=Path, default=HERE)
    ap.add_argument("variants", nargs="*")
    args = ap.parse_args()
    names = args.variants or sorted(p.name for p in args.out_dir.iterdir()
                                    if (p / "config").exists())
    for name in names:
        src = args.out_dir / name
        dst = args.dest / name
        dst.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / "config", dst / "config")
        symbols(src, dst / "symbols")
        images = arm64_variant(name, src, dst) if name.startswith("arm64") else \
            elf_variant(name, src, dst)
        doc = {"variant": name, "built_by": "corpus/build-kernels.sh", "images": images,
               "tools": {t: _version(t) for t in ("file", "readelf", "mkimage", "dpkg-deb",
                                                   "zstd", "gzip")}}
        (dst / "expected.json").write_text(json.dumps(doc, indent=1) + "\n")
        print(dst, [i["file"] for i in images])
    return 0


def _version(tool: str) -> str:
    try:
        p = subprocess.run([tool, "--version"], capture_output=True, text=True)
        return (p.stdout or p.stderr).splitlines()[0]
    except (OSError, IndexError):
        return "absent"


if __name__ == "__main__":
    raise SystemExit(main())
