"""One-field changes of each kind of base loadertruth/variants.py writes: an arm64 Image's
header (through kimage's construct twin, so exactly one field differs; a wrong magic, a
``Const`` the twin cannot build, as raw bytes), an EFI zboot's header, a ppc64 vmlinux's
head words and the ELF fields the loaders read. Each is a ``Variant``: its class and
detail name the file (``<class>--<detail>``), its patch applies to the base's first
bytes, ``truncate`` and ``extend`` change its size."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from validator.formats import arm64_image

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
