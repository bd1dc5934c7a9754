"""Near-valid variants of real kernel images: one field changed per variant.

    python -m loadertruth.variants --out build/loadertruth/variants [--kbuild DIR]
                                   [--full-debian]

Bases (each used as-is too):

- arm64: the Debian 6.1.0-50 arm64 kernel (``corpus/real`` excerpt materialised as a
  sparse file of the real size; with ``--full-debian`` the whole file, downloaded from
  Debian's archive with ``apt-get download`` into the cache and checked against the
  excerpt's sha256), and the cross-built 6.1 ``Image`` files of ``corpus/kernels``
  (LE 4K EFI, LE 16K no-EFI, BE 64K no-EFI): the full file from ``--kbuild`` when it
  is there with the excerpt's sha256, else the excerpt, sparse. ``Image.gz`` as-is,
  ``vmlinuz.efi`` (zboot) as-is plus zboot header variants.
- ppc64: the Debian 6.1.0-50 powerpc64le vmlinux and the ppc64 ``vmlinux`` files of
  ``corpus/kernels`` (same rule): the ``__run_at_load`` word at head+0x5c, head words,
  and the ELF fields the loaders read.

arm64 header fields are changed through kimage's construct twin
(``validator.formats.arm64_image.parse``/``build``), so exactly one field differs; a
wrong magic cannot be built by the twin (it is a ``Const``) and is written as raw
bytes. The file name says what changed: ``<class>--<detail>``. ``manifest.json``
lists every file with its base, class, field and value.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .common import CACHE, REPO

sys.path.insert(0, str(REPO))
from corpus.materialise import excerpts, materialise  # noqa: E402
from validator.formats import arm64_image  # noqa: E402

KBUILD = Path("/tmp/kbuild/out")
MiB = 1 << 20


@dataclass
class Variant:
    cls: str
    detail: str
    field: str | None
    value: object
    #: bytes -> bytes applied to the base's first 64 KiB ... or the whole file (see Base)
    patch: Callable[[bytearray], None] | None = None
    truncate: int | None = None
    extend: int = 0
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.cls}--{self.detail}"


@dataclass
class Base:
    name: str
    arch: str
    path: Path
    origin: str
    variants: list[Variant] = field(default_factory=list)


# --------------------------------------------------------------------------- arm64


def _hdr_patch(**changes) -> Callable[[bytearray], None]:
    """Change header fields through the construct twin (flags.* as 'flags_<name>')."""

    def apply(buf: bytearray) -> None:
        h = arm64_image.parse(bytes(buf[:64]))
        for k, v in changes.items():
            if k.startswith("flags_"):
                h.flags[k[6:]] = v
            else:
                h[k] = v
        buf[:64] = arm64_image.build(h)

    return apply


def _raw_patch(offset: int, data: bytes) -> Callable[[bytearray], None]:
    def apply(buf: bytearray) -> None:
        buf[offset : offset + len(data)] = data

    return apply


def _swap_header(buf: bytearray) -> None:
    """Every header field stored big-endian (magic and code words unchanged)."""
    h = arm64_image.parse(bytes(buf[:64]))
    raw = bytearray(buf[:64])
    for off, fld in ((8, "text_offset"), (16, "image_size"), (32, "res2"), (40, "res3"),
                     (48, "res4")):
        raw[off : off + 8] = struct.pack(">Q", h[fld])
    raw[24:32] = raw[24:32][::-1]
    buf[:64] = raw


def arm64_variants(path: Path) -> list[Variant]:
    with open(path, "rb") as f:
        head = f.read(64)
    size = path.stat().st_size
    h = arm64_image.parse(head)
    out: list[Variant] = [Variant("as-is", "base", None, None)]

    # magic
    for i in range(4):
        b = bytes([head[0x38 + i] ^ 0x01])
        out.append(Variant("magic", f"byte{i}-xor01", "magic", (head[0x38:0x3C]
                           [:i] + b + head[0x38 + i + 1:0x3C]).hex(), _raw_patch(0x38 + i, b)))
    for label, m in (("zero", b"\0\0\0\0"), ("armE", b"ARM\x65"), ("swapped", b"dMRA"),
                     ("ARMD-upper", b"ARMD"), ("lowercase", b"arm\x64"),
                     ("at-0x3c", None)):
        if m is None:
            # magic moved one word on: 0x38 zero, ARMd at 0x3c (pe_offset clobbered)
            out.append(Variant("magic", label, "magic", "moved",
                               _raw_patch(0x38, b"\0\0\0\0ARMd")))
        else:
            out.append(Variant("magic", label, "magic", m.hex(), _raw_patch(0x38, m)))

    # code0 / code1
    for label, v in (("nop", 0xD503201F), ("zero", 0), ("mz-broken-MY", (h.code0 & ~0xFFFF)
                     | 0x594D), ("branch", 0x14000010), ("mz-add-old", 0x91005A4D),
                     ("mz-ccmp-6.1", 0xFA405A4D)):
        if v != h.code0:
            out.append(Variant("code0", label, "code0", v, _hdr_patch(code0=v)))
    for label, v in (("zero", 0), ("b-self", 0x14000000)):
        out.append(Variant("code1", label, "code1", v, _hdr_patch(code1=v)))

    # flags
    out.append(Variant("flags-be", f"be{int(not h.flags.be)}", "flags.be", int(not h.flags.be),
                       _hdr_patch(flags_be=not h.flags.be)))
    for ps in range(4):
        if ps != h.flags.page_size:
            out.append(Variant("flags-page-size", f"page{ps}", "flags.page_size", ps,
                               _hdr_patch(flags_page_size=ps)))
    pb = not h.flags.phys_base
    out.append(Variant("flags-placement", f"phys-base{int(pb)}", "flags.phys_base", int(pb),
                       _hdr_patch(flags_phys_base=pb)))
    for bit in (4, 5, 8, 16, 31, 32, 63):
        r = h.flags.reserved ^ (1 << (bit - 4))
        out.append(Variant("flags-reserved", f"bit{bit}", "flags.reserved", r,
                           _hdr_patch(flags_reserved=r)))
    out.append(Variant("flags-reserved", "all", "flags.reserved", (1 << 60) - 1,
                       _hdr_patch(flags_reserved=(1 << 60) - 1)))

    # image_size
    isz = h.image_size
    sizes = [
        ("zero", 0),
        ("4k", 0x1000),
        ("file-minus-64k", max(size - 0x10000, 0x1000)),
        ("file-exact", size),
        ("file-2m-aligned", (size + 2 * MiB - 1) // (2 * MiB) * (2 * MiB)),
        ("plus-2m", isz + 2 * MiB),
        ("unaligned", isz + 0x123),
        ("256m", 0x10000000),
        ("2g", 0x80000000),
        ("4g", 0x100000000),
        ("1t", 1 << 40),
        ("max-64k", 0xFFFFFFFFFFFF0000),
        ("u32-wrap", 0x100000000 + (isz & 0xFFFFFFFF)),
    ]
    for label, v in sizes:
        if v != isz:
            out.append(Variant("image-size", label, "image_size", v, _hdr_patch(image_size=v)))

    # text_offset
    for label, v in (("0x80000", 0x80000), ("0x1234", 0x1234), ("0x1000", 0x1000),
                     ("0x10000", 0x10000), ("0x8", 0x8), ("0x200000", 0x200000),
                     ("0x1ff000", 0x1FF000), ("4g", 0x100000000),
                     ("huge", 0xFFFFFFFFFFFFF000)):
        if v != h.text_offset:
            out.append(Variant("text-offset", label, "text_offset", v,
                               _hdr_patch(text_offset=v)))
    # image_size 0 makes the loaders ignore text_offset (pre-3.17 rule)
    for label, v in (("0x1234", 0x1234), ("0x80000", 0x80000)):
        out.append(Variant("image-size-zero+text-offset", label, "image_size,text_offset",
                           [0, v], _hdr_patch(image_size=0, text_offset=v)))

    # pe_offset (res5)
    for label, v in (("zero", 0), ("0x40", 0x40), ("0x80", 0x80), ("0x3c", 0x3C),
                     ("beyond-file", size + 0x100), ("max", 0xFFFFFFFF)):
        if v != h.pe_offset:
            out.append(Variant("pe-offset", label, "pe_offset", v, _hdr_patch(pe_offset=v)))

    # res2..res4
    for fld in ("res2", "res3", "res4"):
        for label, v in (("one", 1), ("ones", 0xFFFFFFFFFFFFFFFF)):
            out.append(Variant("reserved-fields", f"{fld}-{label}", fld, v,
                               _hdr_patch(**{fld: v})))

    # all numeric fields big-endian, as a BE pre-3.17 kernel might have them
    out.append(Variant("header-byteswapped", "be-fields", "text_offset,image_size,flags",
                       "byte-swapped", _swap_header))

    # truncations and extensions
    for label, n in (("0", 0), ("32", 32), ("56", 56), ("60", 60), ("63", 63), ("64", 64),
                     ("4k", 4096), ("32k", 32768), ("1m", MiB), ("half", size // 2),
                     ("minus-1", size - 1)):
        if n < size:
            out.append(Variant("truncated", label, "file_size", n, truncate=n))
    out.append(Variant("extended", "plus-1m", "file_size", size + MiB, extend=MiB))
    if isz > size:
        out.append(Variant("extended", "to-image-size-plus-64k", "file_size",
                           isz + 0x10000, extend=isz + 0x10000 - size))
    return out


def zboot_variants(path: Path) -> list[Variant]:
    """Variants of an EFI zboot header ("MZ\\0\\0zimg", see reference arm64.md s.4)."""
    head = path.read_bytes()[:64]
    if head[4:8] != b"zimg":
        return [Variant("as-is", "base", None, None)]
    off, sz = struct.unpack_from("<II", head, 8)
    comp = head[0x18:0x38].split(b"\0")[0]
    out = [Variant("as-is", "base", None, None)]
    out.append(Variant("zboot-magic", "zimg-xor", "image_type", "zimh", _raw_patch(4, b"zimh")))
    for c in (b"gzip", b"zstd", b"zstd22", b"lzma", b"xzkern", b"lz4", b"lzo", b"bogus"):
        if c != comp:
            out.append(Variant("zboot-comp", c.decode(), "comp_type", c.decode(),
                               _raw_patch(0x18, c + b"\0" * (0x20 - len(c)))))
    for label, v in (("zero", 0), ("plus-16", off + 16), ("beyond-file", 0x7FFFFFFF)):
        out.append(Variant("zboot-payload-offset", label, "payload_offset", v,
                           _raw_patch(8, struct.pack("<I", v))))
    for label, v in (("zero", 0), ("half", sz // 2), ("plus-4k", sz + 4096)):
        out.append(Variant("zboot-payload-size", label, "payload_size", v,
                           _raw_patch(12, struct.pack("<I", v))))
    out.append(Variant("zboot-pe-offset", "zero", "pe_offset", 0,
                       _raw_patch(0x3C, b"\0\0\0\0")))
    return out


# --------------------------------------------------------------------------- ppc64


def _elf_info(buf: bytes) -> tuple[str, int, int]:
    """(struct byte-order char, e_phoff, head file offset = first PT_LOAD p_offset)."""
    o = "<" if buf[5] == 1 else ">"
    e_phoff, = struct.unpack_from(o + "Q", buf, 0x20)
    e_phentsize, e_phnum = struct.unpack_from(o + "HH", buf, 0x36)
    for i in range(e_phnum):
        p = e_phoff + i * e_phentsize
        p_type, = struct.unpack_from(o + "I", buf, p)
        if p_type == 1:
            return o, e_phoff, struct.unpack_from(o + "Q", buf, p + 8)[0]
    raise ValueError("no PT_LOAD")


def ppc64_variants(path: Path) -> list[Variant]:
    with open(path, "rb") as f:
        buf = f.read(0x10200)
    size = path.stat().st_size
    o, phoff, head = _elf_info(buf)
    out = [Variant("as-is", "base", None, None)]

    def word(rel: int, v: int) -> Callable[[bytearray], None]:
        return _raw_patch(head + rel, struct.pack(o + "I", v))

    cur = struct.unpack_from(o + "I", buf, head + 0x5C)[0]
    for label, v in (("run0", 0x72756E30), ("one", 1), ("zero", 0), ("two", 2),
                     ("run0-swapped", 0x306E7572), ("ones", 0xFFFFFFFF),
                     ("run1", 0x72756E31)):
        if v != cur:
            out.append(Variant("run-at-load", label, "run_at_load", v, word(0x5C, v)))
    w0, w1 = struct.unpack_from(o + "II", buf, head)
    for label, v in (("zero", 0), ("plain-branch", 0x48000100), ("trap", 0x7FE00008),
                     ("swapped", int.from_bytes(struct.pack(o + "I", w0)[::-1], "big"))):
        if v != w0:
            out.append(Variant("head-word0", label, "word0", v, word(0, v)))
    for label, v in (("short-form", 0x48000024), ("long-form", 0x4800002C), ("zero", 0)):
        if v != w1:
            out.append(Variant("head-word1", label, "word1", v, word(4, v)))
    out.append(Variant("head-word-0x60", "zero", "secondary_entry", 0, word(0x60, 0)))
    out.append(Variant("head-zeroed", "256", "head", "zero", _raw_patch(head, b"\0" * 256)))
    # ELF fields
    for label, v in (("ppc32", 20), ("aarch64", 183), ("x86_64", 62), ("none", 0)):
        out.append(Variant("elf-machine", label, "e_machine", v,
                           _raw_patch(0x12, struct.pack(o + "H", v))))
    for label, v in (("dyn", 3), ("rel", 1), ("core", 4)):
        out.append(Variant("elf-type", label, "e_type", v,
                           _raw_patch(0x10, struct.pack(o + "H", v))))
    out.append(Variant("elf-class", "32", "EI_CLASS", 1, _raw_patch(4, b"\x01")))
    out.append(Variant("elf-data", "swapped", "EI_DATA", 3 - buf[5],
                       _raw_patch(5, bytes([3 - buf[5]]))))
    out.append(Variant("elf-magic", "xor", "EI_MAG", "7f454c47", _raw_patch(3, b"G")))
    out.append(Variant("elf-phnum", "zero", "e_phnum", 0,
                       _raw_patch(0x38, struct.pack(o + "H", 0))))
    out.append(Variant("elf-paddr", "64k", "p_paddr", 0x10000,
                       _raw_patch(phoff + 0x18, struct.pack(o + "Q", 0x10000))))
    for label, n in (("64", 64), ("ehdr+phdr", 0xB0), ("head+0x60", head + 0x60),
                     ("half", size // 2)):
        if n < size:
            out.append(Variant("truncated", label, "file_size", n, truncate=n))
    return out


# --------------------------------------------------------------------------- writing


def _copy_sparse(src: Path, dst: Path, limit: int | None, patch, extend: int) -> None:
    """Copy ``src`` to ``dst`` keeping holes (zero 64 KiB blocks are skipped), apply
    ``patch`` to the first 0x10200+ bytes, cut at ``limit``, append ``extend`` zeros."""
    size = src.stat().st_size if limit is None else limit
    first = 0x20000
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        headbuf = bytearray(fi.read(min(first, size)))
        if patch is not None:
            patch(headbuf)
            headbuf = headbuf[: min(first, size)]
        fo.write(headbuf)
        pos = len(headbuf)
        block = 1 << 16
        zero = bytes(block)
        while pos < size:
            chunk = fi.read(min(block, size - pos))
            if not chunk:
                break
            if chunk == zero[: len(chunk)]:
                fo.seek(len(chunk), 1)
            else:
                fo.write(chunk)
            pos += len(chunk)
        fo.truncate(size + extend)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fetch_full_debian() -> dict[str, Path]:
    """Download the real Debian kernels behind corpus/real into the cache (apt-get
    download; sha256 checked against the excerpts). name -> path."""
    out = {}
    dest = CACHE / "kernels"
    for ex in excerpts():
        doc = json.loads(ex.read_text())
        src = doc["source"]
        name = ex.parent.name
        target = dest / name
        if target.is_file() and _sha256(target) == src["sha256"]:
            out[name] = target
            continue
        debdir = dest / "debs"
        debdir.mkdir(parents=True, exist_ok=True)
        spec = f"{src['package']}:{src['architecture']}={src['version']}"
        subprocess.run(["apt-get", "download", "-q", spec], cwd=debdir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deb = next(debdir.glob(f"{src['package']}_*_{src['architecture']}.deb"))
        tmp = dest / (name + ".x")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        (tmp / src["path"]).rename(target)
        shutil.rmtree(tmp)
        if _sha256(target) != src["sha256"]:
            raise ValueError(f"{target}: sha256 differs from the corpus excerpt")
        out[name] = target
    return out


def _kernels_bases(kbuild: Path | None, scratch: Path) -> Iterator[Base]:
    """corpus/kernels: cross-built 6.1 kernels. Image/vmlinux are stored as excerpts;
    the full file is taken from ``kbuild`` when it is there with the same sha256, else
    the excerpt is materialised (sparse). Image.gz and vmlinuz.efi are stored whole."""
    kernels = REPO / "corpus" / "kernels"
    if not kernels.is_dir():
        return
    for d in sorted(p for p in kernels.iterdir() if p.is_dir()):
        for ex in sorted(d.glob("*.excerpt.json")):
            fname = ex.name.removesuffix(".excerpt.json")
            if fname == "Image" and "zboot" in d.name:
                continue  # the zboot builds' inner Image is the EFI build's
            arch = "ppc64" if fname == "vmlinux" else "arm64"
            src = json.loads(ex.read_text())["source"]
            full = kbuild / d.name / fname if kbuild else None
            if full and full.is_file() and full.stat().st_size == src["size"] and (
                    _sha256(full) == src["sha256"]):
                yield Base(f"kernels-{d.name}", arch, full,
                           f"corpus/kernels/{d.name} {fname}, full file from {full}")
            else:
                scratch.mkdir(parents=True, exist_ok=True)
                p = materialise(ex, scratch / f"{d.name}-{fname}")
                yield Base(f"kernels-{d.name}", arch, p,
                           f"corpus/kernels/{d.name} {fname} excerpt, materialised (sparse)")
        gz = d / "Image.gz"
        if gz.is_file():
            yield Base(f"kernels-{d.name}-Image.gz", "arm64-wrapped", gz, str(gz.relative_to(REPO)))
        zb = d / "vmlinuz.efi"
        if zb.is_file():
            yield Base(f"kernels-{d.name}-vmlinuz.efi", "arm64-zboot", zb,
                       str(zb.relative_to(REPO)))


def bases(kbuild: Path | None, full_debian: bool, scratch: Path) -> Iterator[Base]:
    full = fetch_full_debian() if full_debian else {}
    for ex in excerpts():
        name = ex.parent.name
        arch = ("ppc64" if "powerpc" in name or "ppc64" in name
                else "arm64" if "arm64" in name else None)
        if arch is None:  # an x86 or riscv64 kernel: the variants here are arm64's and
            continue  # ppc64's (kexec_x86.py and kexec_riscv.py run those kernels)
        if name in full:
            yield Base(name, arch, full[name], "Debian package, downloaded (full file)")
        else:
            scratch.mkdir(parents=True, exist_ok=True)
            p = materialise(ex, scratch / name)
            yield Base(name, arch, p, "corpus/real excerpt, materialised (sparse)")
    yield from _kernels_bases(kbuild, scratch)


def generate(out: Path, kbuild: Path | None = KBUILD, full_debian: bool = False) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for base in bases(kbuild, full_debian, out / ".bases"):
        if base.arch == "arm64":
            variants = arm64_variants(base.path)
        elif base.arch == "arm64-zboot":
            variants = zboot_variants(base.path)
        elif base.arch == "ppc64":
            variants = ppc64_variants(base.path)
        else:
            variants = [Variant("as-is", "base", None, None)]
        arch = "ppc64" if base.arch == "ppc64" else "arm64"
        d = out / arch / base.name
        d.mkdir(parents=True, exist_ok=True)
        for v in variants:
            dst = d / v.name
            _copy_sparse(base.path, dst, v.truncate, v.patch, v.extend)
            manifest.append({
                "image": str(dst.relative_to(out)),
                "arch": arch,
                "base": base.name,
                "base_origin": base.origin,
                "class": v.cls,
                "variant": v.detail,
                "field": v.field,
                "value": v.value,
                "size": dst.stat().st_size,
                "sha256": _sha256(dst),
            })
    manifest.sort(key=lambda m: m["image"])
    (out / "manifest.json").write_text(json.dumps(
        {"format": "loadertruth-variants/1", "images": manifest}, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=CACHE / "variants")
    ap.add_argument("--kbuild", type=Path, default=KBUILD,
                    help="full cross-built kernels behind corpus/kernels (read only; "
                    "used when present and their sha256 matches)")
    ap.add_argument("--no-kbuild", action="store_true")
    ap.add_argument("--full-debian", action="store_true",
                    help="download the full Debian kernels instead of the sparse excerpts")
    a = ap.parse_args(argv)
    if a.out.exists():
        shutil.rmtree(a.out)
    m = generate(a.out, None if a.no_kbuild else a.kbuild, a.full_debian)
    counts: dict[str, int] = {}
    for e in m:
        counts[e["arch"]] = counts.get(e["arch"], 0) + 1
    per_arch = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    print(f"{len(m)} images in {a.out} ({per_arch})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
