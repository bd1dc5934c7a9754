"""Structure-aware seed corpora: kernel images of every era and wrapper, and near-valid
variants whose expected finding is known.

Everything here is built from *choices*: a ``Chooser`` answers "an integer in this
range", "one of these", "n bytes". ``RandomChooser(seed)`` answers from a seeded
``random.Random`` (``kimage fuzz``: same seed, same bytes); ``validator.strategies``
answers from Hypothesis' ``draw`` (shrinkable property tests). The builders go through
the construct twins (``validator.formats``) for the header formats and write the
wrappers (ELF, PE/COFF, EFI zboot, uImage, Android boot, compression) field by field
from their published layouts; they are writers, not parsers.

A ``Sample`` carries the bytes and ``expect``: the rule IDs kimage must report for it.
A valid sample expects only what its era implies (``arm64/image-size-zero`` for a 3.12
Image, ``ppc64/legacy-layout`` for a plain-branch head, ``layer/compressed`` ...); a
near-valid one (``mutation`` set) has one field off, one size lying or one byte of magic
wrong, and expects the finding for exactly that.

This module never imports Hypothesis and is not imported on the check path.
"""

from __future__ import annotations

import functools
import random
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from validator.formats.arm64_image import twin as arm64_image
from validator.formats.ppc64_head import twin as ppc64_head

T = TypeVar("T")

__all__ = [
    "ARM64_ERAS", "CODECS", "KINDS", "PPC64_ERAS", "Chooser", "RandomChooser", "Sample",
    "available_kinds",
    "compress", "elf32", "elf64", "generate", "mutate_bytes", "mutations", "pe_header",
]


class Chooser(Protocol):
    """Where every random decision comes from."""

    def integer(self, lo: int, hi: int) -> int: ...   # lo <= n <= hi

    def choice(self, options: Sequence[T]) -> T: ...

    def boolean(self) -> bool: ...

    def binary(self, size: int) -> bytes: ...


class RandomChooser:
    """A ``Chooser`` over ``random.Random(seed)``: deterministic for a given seed."""

    def __init__(self, seed: int | str | random.Random = 0):
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def boolean(self) -> bool:
        return self.rng.getrandbits(1) == 1

    def binary(self, size: int) -> bytes:
        return self.rng.getrandbits(8 * size).to_bytes(size, "little") if size > 0 else b""


@dataclass
class Sample:
    """One generated file: what it is, its bytes, and the findings kimage must report."""

    kind: str  # a KINDS name: "arm64-image", "ppc64-elf", "zboot", "gzip", ...
    name: str  # a short slug: "v5.8-4k-le-anywhere-efi", "bad-magic", ...
    data: bytes
    expect: tuple[str, ...] = ()  # rule IDs kimage must report (any severity)
    mutation: str | None = None  # None: a valid image; else the near-valid change
    params: dict = field(default_factory=dict)  # what was drawn

    @property
    def valid(self) -> bool:
        return self.mutation is None

    def describe(self) -> dict:
        return {"kind": self.kind, "name": self.name, "valid": self.valid,
                "mutation": self.mutation, "expect": list(self.expect),
                "params": {k: v for k, v in self.params.items() if _jsonable(v)}}


def _jsonable(v) -> bool:
    return isinstance(v, (str, int, bool, type(None))) or (
        isinstance(v, (list, tuple)) and all(_jsonable(x) for x in v))


# --------------------------------------------------------------------------------------
# wrappers: ELF, PE/COFF, compression
# --------------------------------------------------------------------------------------

PT_LOAD, PT_NOTE = 1, 4
EM_PPC64, EM_AARCH64 = 21, 183


def elf64(payload: bytes, *, endian: str, machine: int, p_offset: int = 0x1000,
          vaddr: int = 0xC000000000000000, filesz: int | None = None, p_type: int = PT_LOAD,
          note: bool = False, ident_class: int = 2, ident_data: int | None = None,
          phentsize: int = 56) -> bytes:
    """An ELF64 ET_EXEC whose first program header is a PT_LOAD of ``payload`` (ELF gABI).

    ``filesz`` overrides p_filesz (a lying size); ``note`` adds a PT_NOTE after it, as a
    vmlinux has; ``ident_*`` and ``phentsize`` override those header fields."""
    o = ">" if endian == "big" else "<"
    data = ident_data if ident_data is not None else (2 if endian == "big" else 1)
    ident = b"\x7fELF" + bytes([ident_class, data, 1, 0]) + bytes(8)
    phnum = 2 if note else 1
    ehdr = ident + struct.pack(o + "HHIQQQIHHHHHH", 2, machine, 1, vaddr, 64, 0, 0, 64,
                               phentsize, phnum, 64, 0, 0)
    size = len(payload) if filesz is None else filesz
    phdrs = struct.pack(o + "IIQQQQQQ", p_type, 7, p_offset, vaddr, 0, size, size, 0x10000)
    if note:
        phdrs += struct.pack(o + "IIQQQQQQ", PT_NOTE, 4, p_offset + len(payload), 0, 0, 0, 0,
                             4)
    return (ehdr + phdrs).ljust(p_offset, b"\0") + payload


def elf32(payload: bytes, *, endian: str, machine: int, p_offset: int = 0x1000) -> bytes:
    """An ELFCLASS32 ET_EXEC with one PT_LOAD holding ``payload``."""
    o = ">" if endian == "big" else "<"
    ident = b"\x7fELF" + bytes([1, 2 if endian == "big" else 1, 1, 0]) + bytes(8)
    ehdr = ident + struct.pack(o + "HHIIIIIHHHHHH", 2, machine, 1, 0xC0000000, 52, 0, 0, 52,
                               32, 1, 40, 0, 0)
    phdr = struct.pack(o + "IIIIIIII", PT_LOAD, p_offset, 0xC0000000, 0, len(payload),
                       len(payload), 7, 0x10000)
    return (ehdr + phdr).ljust(p_offset, b"\0") + payload


PE_SIGNATURE = b"PE\0\0"
IMAGE_FILE_MACHINE_ARM64 = 0xAA64
PE_HEADERS_SIZE = 0x200  # SizeOfHeaders: DOS/Image header + PE headers, file-aligned


def pe_header(*, size_of_image: int, entry: int, file_size: int,
              machine: int = IMAGE_FILE_MACHINE_ARM64, nsections: int = 1,
              opt_size: int = 0xF0) -> bytes:
    """"PE\\0\\0", the COFF header and a PE32+ optional header of an EFI application with
    one .text section from SizeOfHeaders to the end of the file (efi-header.S's shape).
    Goes at 0x40 (the Image header's res5 / the DOS header's e_lfanew)."""
    text = max(0, file_size - PE_HEADERS_SIZE)
    coff = struct.pack("<HHIIIHH", machine, nsections, 0, 0, 0, opt_size, 0x0206)
    opt = struct.pack("<HBBIIIII", 0x20B, 2, 0x14, text, 0, 0, entry, PE_HEADERS_SIZE)
    opt += struct.pack("<QIIHHHHHHIIIIHHQQQQII", 0, 0x200, 0x200, 0, 0, 1, 1, 0, 0, 0,
                       max(size_of_image, file_size), PE_HEADERS_SIZE, 0, 10, 0, 0, 0, 0, 0,
                       0, 16)
    opt += bytes(16 * 8)  # data directories, all empty
    opt = opt[:opt_size].ljust(opt_size, b"\0")
    section = struct.pack("<8sIIIIIIHHI", b".text", text, PE_HEADERS_SIZE, text,
                          PE_HEADERS_SIZE, 0, 0, 0, 0, 0x60000020)
    return PE_SIGNATURE + coff + opt + section * min(nsections, 2)


#: codec -> how Linux/U-Boot write it. "lz4" is the kernel's legacy frame (lz4 -l).
CODECS = ("gzip", "xz", "lzma", "bzip2", "zstd", "lz4", "lz4-frame")
LZ4_LEGACY_MAGIC = b"\x02\x21\x4c\x18"


def compress(codec: str, data: bytes) -> bytes:
    """``data`` compressed as the kernel's build writes it (deterministic for a given
    library version). zstd and lz4 need the ``zstandard`` and ``lz4`` packages."""
    if codec == "gzip":
        import gzip
        return gzip.compress(data, compresslevel=9, mtime=0)
    if codec == "xz":
        import lzma
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    if codec == "lzma":
        import lzma
        return lzma.compress(data, format=lzma.FORMAT_ALONE)
    if codec == "bzip2":
        import bz2
        return bz2.compress(data, 9)
    if codec == "zstd":
        import zstandard
        return zstandard.ZstdCompressor(level=19, write_checksum=True,
                                        write_content_size=True).compress(data)
    if codec == "lz4":
        import lz4.block
        out = bytearray(LZ4_LEGACY_MAGIC)
        for i in range(0, max(len(data), 1), 8 << 20):
            block = lz4.block.compress(data[i:i + (8 << 20)], store_size=False,
                                       mode="high_compression", compression=9)
            out += struct.pack("<I", len(block)) + block
        return bytes(out)
    if codec == "lz4-frame":
        import lz4.frame
        return lz4.frame.compress(data, compression_level=9, content_checksum=True,
                                  store_size=True)
    raise ValueError(f"unknown codec {codec!r}")


@functools.cache
def codec_available(codec: str) -> bool:
    """True when ``compress(codec, ...)`` can run here."""
    try:
        compress(codec, b"x")
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------------------
# arm64 Image
# --------------------------------------------------------------------------------------

ARM64_ERAS = ("3.12", "3.17", "4.6", "5.8")
PAGES = {"4k": 1, "16k": 2, "64k": 3}
EFI_CODE0 = 0xFA405A4D  # "MZ" ccmp x18, #0, #0xd, pl (5.x and later)
OLD_EFI_CODE0 = 0x91005A4D  # "MZ" add x13, x18, #0x16
NOP = 0xD503201F
_TEXT_PAD = random.Random("kimage-text").randbytes(0x100)
BANNER = b"Linux version 6.1.0-kimage-fuzz (kimage@fuzz) (gcc 12.2.0) #1 SMP\n\0"


def _b(from_offset: int, to: int) -> int:
    """arm64 ``b`` at ``from_offset`` to ``to`` (imm26, both 4-byte aligned)."""
    return 0x14000000 | (((to - from_offset) // 4) & 0x03FFFFFF)


def arm64_params(c: Chooser, era: str | None = None, *, efi: bool | None = None,
                 endian: str | None = None) -> dict:
    """Draw the parameters of a real-looking arm64 Image of ``era``."""
    era = era or c.choice(ARM64_ERAS)
    if era not in ARM64_ERAS:
        raise ValueError(f"arm64 era must be one of {', '.join(ARM64_ERAS)}")
    if era == "3.12":  # 3.12-3.16: the EFI stub (3.16) exists only little-endian
        combos = [(e, f) for e, f in (("le", False), ("be", False), ("le", True))
                  if (endian is None or e == endian) and (efi is None or f == efi)]
        endian, efi = c.choice(combos or [("le", bool(efi))])
    else:
        endian = endian or c.choice(("le", "be"))
        efi = c.boolean() if efi is None else efi
    first = PE_HEADERS_SIZE if efi else 0x40
    entry = first + 0x40 * c.integer(0, 0x40)
    # stand-in text after the entry: drawn bytes over a fixed incompressible pad, so that
    # even all-zero draws (Hypothesis' simplest) compress no smaller than a real kernel
    size = 0x10 * c.integer(4, 16)
    code = bytes(a ^ b for a, b in zip(c.binary(size), _TEXT_PAD, strict=False))
    tail = 0x10 * c.integer(1, 0x20)
    banner = c.boolean()
    return {
        "era": era, "endian": endian, "efi": efi, "code": code,
        "page": c.choice(tuple(PAGES)) if era in ("4.6", "5.8") else None,
        "anywhere": c.boolean() if era in ("4.6", "5.8") else False,
        "entry": entry, "size": entry + 4 + len(code) + tail + (len(BANNER) if banner else 0),
        "image_size": 0x10000 * c.integer(1, 0x400),
        "banner": banner,
    }


def arm64_header(p: dict) -> dict:
    """The twin's mapping for the header ``arm64_params`` describe."""
    era, efi = p["era"], p["efi"]
    legacy = era == "3.12"
    if legacy:
        stored = 0x80000 if p["endian"] == "le" else int.from_bytes(
            (0x80000).to_bytes(8, "big"), "little")
        code0 = OLD_EFI_CODE0 if efi else _b(0, p["entry"])
        return {"code0": code0, "code1": 0, "text_offset": stored, "image_size": 0,
                "flags": {"be": False, "page_size": 0, "phys_base": False, "reserved": 0},
                "res2": 0, "res3": 0, "res4": 0, "pe_offset": 0x40 if efi else 0}
    code0 = (EFI_CODE0 if era == "5.8" else OLD_EFI_CODE0) if efi else NOP
    return {
        "code0": code0, "code1": _b(4, p["entry"]),
        "text_offset": 0 if era == "5.8" else 0x80000,
        "image_size": p["image_size"],
        "flags": {"be": p["endian"] == "be", "page_size": PAGES.get(p["page"], 0),
                  "phys_base": p["anywhere"], "reserved": 0},
        "res2": 0, "res3": 0, "res4": 0, "pe_offset": 0x40 if efi else 0,
    }



def arm64_bytes(header: dict, p: dict, *, pe: bytes | None = None) -> bytes:
    """Header, PE headers (EFI stub), the entry instruction, and the tail."""
    size = p["size"]
    data = bytearray(arm64_image.build(header))
    if p["efi"]:
        data += pe if pe is not None else pe_header(
            size_of_image=header["image_size"] or size, entry=p["entry"], file_size=size)
    data = data.ljust(p["entry"], b"\0")
    data += struct.pack("<I", NOP) + p.get("code", b"")
    if p.get("banner"):  # the linux_banner string, at the end of the file
        data = data.ljust(size - len(BANNER), b"\0") + BANNER
    return bytes(data.ljust(size, b"\0"))


def arm64_valid_expect(p: dict) -> tuple[str, ...]:
    expect = []
    if p["era"] == "3.12":
        expect.append("arm64/image-size-zero")
    elif p["page"] is None:
        expect.append("arm64/page-size-unspecified")
    if not p["efi"]:
        expect.append("arm64/no-efi-stub")
    return tuple(expect)


def arm64_slug(p: dict) -> str:
    parts = [f"v{p['era']}"]
    if p["page"]:
        parts.append(p["page"])
    parts.append(p["endian"])
    if p["era"] in ("4.6", "5.8"):
        parts.append("anywhere" if p["anywhere"] else "dram-base")
    parts.append("efi" if p["efi"] else "noefi")
    return "-".join(parts)


def _arm64_fit(c: Chooser, table: dict, mutation: str | None, era, efi):
    """(era, efi) drawn among those a named ``mutation`` applies to."""
    if mutation in (None, "any"):
        return era, efi
    ok = table[mutation][1]
    combos = [(e, f) for e in ARM64_ERAS for f in (True, False)
              if (era is None or e == era) and (efi is None or f == efi)
              and ok({"era": e, "efi": f, "page": "4k" if e in ("4.6", "5.8") else None})]
    return c.choice(combos) if combos else (era, efi)


def _arm64_image(c: Chooser, mutation: str | None, *, era=None, efi=None,
                 endian=None) -> Sample:
    era, efi = _arm64_fit(c, ARM64_MUTATIONS, mutation, era, efi)
    p = arm64_params(c, era, efi=efi, endian=endian)
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in ARM64_MUTATIONS.items() if ok(p)])
    if mutation is None:
        return Sample("arm64-image", arm64_slug(p), arm64_bytes(arm64_header(p), p),
                      arm64_valid_expect(p), None, p)
    expect, ok = ARM64_MUTATIONS[mutation]
    if not ok(p):
        raise ValueError(f"mutation {mutation} does not apply to {arm64_slug(p)}")
    data, expect = _mutate_arm64(c, p, mutation, expect)
    return Sample("arm64-image", mutation, data, expect, mutation, p)


def _post317(p):
    return p["era"] != "3.12"


#: mutation -> (expected rule IDs, applies to these params?)
ARM64_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "bad-magic": (("arm64/bad-magic",), lambda p: p["efi"]),
    "bad-magic-noefi": (("layer/unknown-format",), lambda p: not p["efi"]),
    "image-size-zero": (("arm64/image-size-zero",), _post317),
    "text-offset-unaligned": (("arm64/text-offset-unaligned",), _post317),
    "text-offset-unusual": (("arm64/text-offset-unusual",), _post317),
    "image-size-lying": (("arm64/image-size-smaller-than-file",),
                         lambda p: p["era"] == "5.8"),
    "entry-outside-image": (("arm64/entry-outside-image",), _post317),
    "pe-offset-invalid": (("arm64/pe-offset-invalid",), lambda p: p["efi"]),
    "pe-machine": (("arm64/pe-machine",), lambda p: p["efi"]),
    "pe-malformed": (("pe/malformed",), lambda p: p["efi"]),
    "pe-offset-without-mz": (("arm64/pe-offset-without-mz",), lambda p: not p["efi"]),
    "reserved-flags": (("arm64/reserved-flags",), _post317),
    "reserved-fields": (("arm64/reserved-fields",), lambda p: True),
    "page-size-unspecified": (("arm64/page-size-unspecified",),
                              lambda p: p["era"] in ("4.6", "5.8")),
    "truncated-header": (("arm64/truncated-header",), lambda p: True),
}


def _mutate_arm64(c: Chooser, p: dict, mutation: str, expect: tuple[str, ...]):
    h = arm64_header(p)
    pe = None
    if mutation in ("bad-magic", "bad-magic-noefi"):
        data = bytearray(arm64_bytes(h, p))
        i = arm64_image.MAGIC_OFFSET + c.integer(0, 3)
        data[i] ^= c.integer(1, 255)
        return bytes(data), expect
    if mutation == "image-size-zero":
        h["image_size"] = 0
    elif mutation == "text-offset-unaligned":
        h["text_offset"] += c.integer(1, 0xFFF)
    elif mutation == "text-offset-unusual":
        h["text_offset"] = 0x200000 * c.integer(1, 0x80)
    elif mutation == "image-size-lying":
        h["image_size"] = c.integer(max(1, p["entry"] + 4), p["size"] - 1)
    elif mutation == "entry-outside-image":
        target = c.choice((4 * c.integer(0, 0xF), p["size"] + 4 * c.integer(0, 0x1000)))
        h["code1"] = _b(4, target)
    elif mutation == "pe-offset-invalid":
        h["pe_offset"] = c.choice((4 * c.integer(0x11, 0x7F), 4 * c.integer(0x400, 0xFFFF)))
    elif mutation == "pe-machine":
        machine = c.choice((0x8664, 0x14C, 0x5064, 0x1C4, c.integer(0, 0xAA63)))
        pe = pe_header(size_of_image=h["image_size"] or p["size"], entry=p["entry"],
                       file_size=p["size"], machine=machine)
    elif mutation == "pe-malformed":
        pe = pe_header(size_of_image=h["image_size"] or p["size"], entry=p["entry"],
                       file_size=p["size"], nsections=c.integer(0x7000, 0xFFFF))
    elif mutation == "pe-offset-without-mz":
        h["pe_offset"] = c.choice((0x40, 4 * c.integer(1, 0x3FFFFFFF)))
    elif mutation == "reserved-flags":
        h["flags"]["reserved"] = c.integer(1, 2**60 - 1)
    elif mutation == "reserved-fields":
        h[c.choice(("res2", "res3", "res4"))] = c.integer(1, 2**64 - 1)
    elif mutation == "page-size-unspecified":
        h["flags"]["page_size"] = 0
    elif mutation == "truncated-header":
        return arm64_bytes(h, p)[:c.integer(0x3C, 0x3F)], expect
    return arm64_bytes(h, p, pe=pe), expect


# --------------------------------------------------------------------------------------
# ppc64 head
# --------------------------------------------------------------------------------------

#: A <= 2.6.26, B 2.6.27 (__kdump_flag), C 2.6.28-3.12 (__run_at_load), D ~3.13-4.x
#: (short FIXUP_ENDIAN), E later (long FIXUP_ENDIAN), book3e (e5500/e6500, plain branch).
PPC64_ERAS = ("A", "B", "C", "D", "E", "book3e")
RUN_AT_LOAD = {"run0": ppc64_head.RUN0, "stay": 1, "norel": 0}
MFMSR_R24 = 0x7F0000A6


def ppc64_params(c: Chooser, era: str | None = None, *, endian: str | None = None) -> dict:
    era = era or c.choice(PPC64_ERAS)
    if era not in PPC64_ERAS:
        raise ValueError(f"ppc64 era must be one of {', '.join(PPC64_ERAS)}")
    fixup = era in ("D", "E")
    if not fixup and endian == "little":
        raise ValueError(f"era {era} kernels are big-endian")
    run = {"A": ("norel",), "B": ("norel",), "C": ("run0", "norel"),
           "book3e": ("run0", "norel")}.get(era, ("run0", "norel", "stay"))
    return {
        "era": era,
        "endian": endian or (c.choice(("big", "little")) if fixup else "big"),
        "run_at_load": c.choice(run),
        "iseries": c.integer(1, 0xFFFF) * 0x1000 if era in ("A", "C") and c.boolean() else 0,
        "kdump_flag": c.choice((0, 1)) if era == "B" else 0,
        "main_target": 4 * c.integer(0x100 // 4, 0x10000 // 4),
        "tail": c.integer(0, 0x40) * 0x10,
    }


def _trampoline(words: int, endian: str) -> bytes:
    # Stand-ins stored byte-reversed, as FIXUP_ENDIAN stores its trampoline.
    other = "<" if endian == "big" else ">"
    return b"".join(struct.pack(other + "I", 0x60000000 + i) for i in range(words))


def ppc64_body(p: dict) -> dict:
    """The twin's ``{"is_le", "body"}`` mapping for ``ppc64_params``."""
    era, endian = p["era"], p["endian"]
    o = ">" if endian == "big" else "<"
    if era in ("D", "E"):
        skip, words = ((ppc64_head.SKIP_SHORT, 8) if era == "D"
                       else (ppc64_head.SKIP_LONG, 10))
        fixup = {"tdi": ppc64_head.TDI_FIXUP, "skip_branch": skip,
                 "trampoline": _trampoline(words, endian)}
        main_offset = 8 + 4 * words
        secondary = struct.pack(o + "II", ppc64_head.TDI_FIXUP, skip) + bytes(0x98)
    else:
        fixup, main_offset = None, 0
        first = MFMSR_R24 if era != "book3e" else 0x7C7E1B78  # mr r30,r3
        secondary = struct.pack(o + "I", first) + bytes(0x9C)
    low = bytearray(ppc64_head.RUN_AT_LOAD_OFFSET - main_offset - 0x18)
    if fixup is None:
        struct.pack_into(o + "QQ", low, 0, p["kdump_flag"], p["iseries"])
    return {"is_le": endian == "little", "body": {
        "fixup_endian": fixup,
        "main_branch": 0x48000000 | ((p["main_target"] - main_offset) & 0x03FFFFFC),
        "trap": ppc64_head.TRAP,
        "secondary_hold_spinloop": 0,
        "secondary_hold_acknowledge": 0,
        "low_fill": bytes(low),
        "run_at_load": RUN_AT_LOAD[p["run_at_load"]],
        "secondary_hold": secondary,
    }}


def ppc64_valid_expect(p: dict, *, elf: bool) -> tuple[str, ...]:
    expect = [] if elf else ["ppc64/raw-head"]
    if p["era"] not in ("D", "E"):
        expect.append("ppc64/legacy-layout")
    expect.append({"norel": "ppc64/not-relocatable", "stay": "ppc64/run-at-load-preset",
                   "run0": None}[p["run_at_load"]])
    if p["iseries"]:
        expect.append("ppc64/iseries-pointer")
    if p["kdump_flag"]:
        expect.append("ppc64/kdump-flag-set")
    return tuple(e for e in expect if e)


def ppc64_slug(p: dict) -> str:
    extra = "-iseries" if p["iseries"] else "-kdump" if p["kdump_flag"] else ""
    return f"era{p['era']}-{'le' if p['endian'] == 'little' else 'be'}-{p['run_at_load']}{extra}"


PPC64_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "run-at-load-unknown": (("ppc64/run-at-load-unknown",), lambda p: True),
    "spinloop-set": (("ppc64/spinloop-set",), lambda p: True),
    "secondary-entry": (("ppc64/secondary-entry",), lambda p: p["era"] in ("D", "E")),
    "main-branch-broken": (("layer/unknown-format",), lambda p: p["era"] in ("D", "E")),
}
PPC64_ELF_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "run-at-load-unknown": (("ppc64/run-at-load-unknown",), lambda p: True),
    "spinloop-set": (("ppc64/spinloop-set",), lambda p: True),
    "secondary-entry": (("ppc64/secondary-entry",), lambda p: p["era"] in ("D", "E")),
    "endian-mismatch": (("ppc64/endian-mismatch",), lambda p: True),
    "head-truncated": (("ppc64/head-truncated",), lambda p: True),
    "head-unrecognised": (("ppc64/head-unrecognised",), lambda p: True),
    "elf-not-elf64": (("ppc64/elf-not-elf64",), lambda p: True),
    "elf-truncated": (("elf/truncated",), lambda p: True),
    "elf-filesz-lying": (("elf/truncated",), lambda p: True),
    "elf-machine": (("elf/unsupported-machine",), lambda p: True),
    "elf-no-load": (("elf/no-load-segment",), lambda p: True),
    "elf-ident": (("elf/malformed",), lambda p: True),
}


def _ppc64_head_bytes(c: Chooser, p: dict, mutation: str | None) -> bytes:
    head = ppc64_body(p)
    body = head["body"]
    o = ">" if p["endian"] == "big" else "<"
    if mutation == "run-at-load-unknown":
        body["run_at_load"] = c.choice((c.integer(2, ppc64_head.RUN0 - 1),
                                        c.integer(ppc64_head.RUN0 + 1, 2**32 - 1),
                                        0x3072756E))  # "run0" in the other byte order
    elif mutation == "spinloop-set":
        body["secondary_hold_spinloop"] = c.integer(1, 2**64 - 1)
    elif mutation == "secondary-entry":
        body["secondary_hold"] = struct.pack(o + "I", c.choice(
            (0, MFMSR_R24, c.integer(0, ppc64_head.TDI_FIXUP - 1)))) + bytes(0x9C)
    data = ppc64_head.build(head)
    if mutation == "main-branch-broken":  # the word after FIXUP_ENDIAN's skip is no `b`
        off = 4 + (body["fixup_endian"]["skip_branch"] & 0xFFFC)
        data = data[:off] + struct.pack(o + "I", c.integer(0, 0x47FFFFFF)) + data[off + 4:]
    return data + bytes(p["tail"])


def _ppc64_fit(c: Chooser, table: dict, mutation: str | None, era, endian):
    if mutation in (None, "any") or era is not None:
        return era
    ok = table[mutation][1]
    return c.choice([e for e in PPC64_ERAS if ok({"era": e})
                     and (endian != "little" or e in ("D", "E"))])


def _ppc64_raw(c: Chooser, mutation: str | None, *, era=None, endian=None) -> Sample:
    era = _ppc64_fit(c, PPC64_MUTATIONS, mutation, era, endian)
    p = ppc64_params(c, era, endian=endian)
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in PPC64_MUTATIONS.items() if ok(p)])
    if mutation is None:
        return Sample("ppc64-head", ppc64_slug(p), _ppc64_head_bytes(c, p, None),
                      ppc64_valid_expect(p, elf=False), None, p)
    expect, ok = PPC64_MUTATIONS[mutation]
    if not ok(p):
        raise ValueError(f"mutation {mutation} does not apply to {ppc64_slug(p)}")
    return Sample("ppc64-head", mutation, _ppc64_head_bytes(c, p, mutation), expect,
                  mutation, p)


def _ppc64_elf(c: Chooser, mutation: str | None, *, era=None, endian=None) -> Sample:
    era = _ppc64_fit(c, PPC64_ELF_MUTATIONS, mutation, era, endian)
    p = ppc64_params(c, era, endian=endian)
    p["p_offset"] = c.choice((0x1000, 0x10000))
    p["note"] = c.boolean()
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in PPC64_ELF_MUTATIONS.items() if ok(p)])
    if mutation is None:
        head = _ppc64_head_bytes(c, p, None)
        data = elf64(head, endian=p["endian"], machine=EM_PPC64, p_offset=p["p_offset"],
                     note=p["note"])
        return Sample("ppc64-elf", "vmlinux-" + ppc64_slug(p), data,
                      ppc64_valid_expect(p, elf=True), None, p)
    expect, ok = PPC64_ELF_MUTATIONS[mutation]
    if not ok(p):
        raise ValueError(f"mutation {mutation} does not apply to {ppc64_slug(p)}")
    head = _ppc64_head_bytes(c, p, mutation if mutation in PPC64_MUTATIONS else None)
    data = _wrap_elf(c, head, mutation, endian=p["endian"], machine=EM_PPC64,
                     p_offset=p["p_offset"], note=p["note"], vaddr=0xC000000000000000)
    return Sample("ppc64-elf", mutation, data, expect, mutation, p)


def _wrap_elf(c: Chooser, payload: bytes, mutation: str | None, *, endian: str, machine: int,
              p_offset: int, note: bool, vaddr: int) -> bytes:
    """``payload`` in an ELF64, with an ELF-level ``mutation`` (others pass through)."""
    kw = {"endian": endian, "machine": machine, "p_offset": p_offset, "note": note,
          "vaddr": vaddr}
    if mutation == "endian-mismatch":
        kw["ident_data"] = 1 if endian == "big" else 2
        kw["endian"] = "little" if endian == "big" else "big"
    elif mutation == "head-truncated":
        payload = payload[:c.integer(1, 0xFF)]
    elif mutation == "head-unrecognised":
        payload = c.choice((bytes(len(payload)), b"\xff" * len(payload),
                            c.binary(4) + b"\xff" * (len(payload) - 4)))
    elif mutation == "elf-not-elf64":
        return elf32(payload, endian=endian, machine=machine, p_offset=p_offset)
    elif mutation == "elf-truncated":
        return elf64(payload, **kw)[:p_offset + c.integer(0, len(payload) - 1)]
    elif mutation == "elf-filesz-lying":
        kw["filesz"] = len(payload) + c.integer(1, 0xFFFFFFF)
    elif mutation == "elf-machine":
        kw["machine"] = c.choice((62, 243, 40, 8, 2, c.integer(184, 0xFFFF)))
    elif mutation == "elf-no-load":
        kw["p_type"] = c.choice((0, PT_NOTE, 6, 0x6474E551))
        kw["note"] = False
    elif mutation == "elf-ident":
        return _elf_ident_broken(c, elf64(payload, **kw))
    return elf64(payload, **kw)


def _elf_ident_broken(c: Chooser, data: bytes) -> bytes:
    data = bytearray(data)
    how = c.integer(0, 2)
    if how == 0:
        data[4] = c.choice((0, 3, 0xFF))  # EI_CLASS
    elif how == 1:
        data[5] = c.choice((0, 3, 0xFF))  # EI_DATA
    else:  # e_phentsize smaller than a program header
        o = ">" if data[5] == 2 else "<"
        struct.pack_into(o + "H", data, 0x36, c.integer(1, 55))
    return bytes(data)


# --------------------------------------------------------------------------------------
# arm64 vmlinux (ELF), compressed Images, EFI zboot, uImage, Android boot image
# --------------------------------------------------------------------------------------

ARM64_ELF_MUTATIONS = {k: v for k, v in PPC64_ELF_MUTATIONS.items()
                       if k.startswith("elf-") and k != "elf-not-elf64"}
ARM64_ELF_MUTATIONS.update({
    "image-size-zero": (("arm64/image-size-zero",), _post317),
    "text-offset-unaligned": (("arm64/text-offset-unaligned",), _post317),
})


def _arm64_elf(c: Chooser, mutation: str | None, *, era=None, efi=None, endian=None) -> Sample:
    era, efi = _arm64_fit(c, ARM64_ELF_MUTATIONS, mutation, era, efi)
    p = arm64_params(c, era, efi=efi, endian=endian)
    p["p_offset"] = c.choice((0x1000, 0x10000))
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in ARM64_ELF_MUTATIONS.items() if ok(p)])
    if mutation is not None and not ARM64_ELF_MUTATIONS[mutation][1](p):
        raise ValueError(f"mutation {mutation} does not apply to {arm64_slug(p)}")
    h = arm64_header(p)
    if mutation == "image-size-zero":
        h["image_size"] = 0
    elif mutation == "text-offset-unaligned":
        h["text_offset"] += c.integer(1, 0xFFF)
    image = arm64_bytes(h, p)
    order = "big" if p["endian"] == "be" else "little"
    data = _wrap_elf(c, image, mutation, endian=order, machine=EM_AARCH64,
                     p_offset=p["p_offset"], note=False, vaddr=0xFFFF800008000000)
    if mutation is None:
        return Sample("arm64-elf", "vmlinux-" + arm64_slug(p), data, arm64_valid_expect(p),
                      None, p)
    return Sample("arm64-elf", mutation, data, ARM64_ELF_MUTATIONS[mutation][0], mutation, p)


def _inner_image(c: Chooser) -> tuple[bytes, dict]:
    """What a compressed file holds: mostly an arm64 Image, sometimes a ppc64 vmlinux."""
    if c.integer(0, 3):
        p = arm64_params(c, c.choice(("4.6", "5.8")))
        return arm64_bytes(arm64_header(p), p), {"inner": "arm64-image", **p}
    p = ppc64_params(c, c.choice(("D", "E")))
    head = _ppc64_head_bytes(c, p, None)
    return elf64(head, endian=p["endian"], machine=EM_PPC64), {"inner": "ppc64-elf", **p}


#: Expected findings for a stream cut short / with a bad checksum, per codec.
COMPRESSED_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "stream-truncated": (("layer/truncated",), lambda p: True),
    "checksum-wrong": (("layer/corrupt",), lambda p: p["codec"] != "lz4"),
    "isize-lying": (("layer/lying-size",), lambda p: p["codec"] == "gzip"),
    "block-size-impossible": (("layer/corrupt",), lambda p: p["codec"] == "lz4"),
}


def _compressed(c: Chooser, mutation: str | None, codec: str) -> Sample:
    inner, p = _inner_image(c)
    p = {"codec": codec, **p}
    stream = compress(codec, inner)
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in COMPRESSED_MUTATIONS.items() if ok(p)])
    if mutation is None:
        return Sample(codec, f"{p['inner']}.{codec}", stream, ("layer/compressed",), None, p)
    expect, ok = COMPRESSED_MUTATIONS[mutation]
    if not ok(p):
        raise ValueError(f"mutation {mutation} does not apply to {codec}")
    return Sample(codec, mutation, _break_stream(c, codec, stream, mutation), expect,
                  mutation, p)


def _break_stream(c: Chooser, codec: str, stream: bytes, mutation: str) -> bytes:
    data = bytearray(stream)
    if mutation == "stream-truncated":
        # keep the stream's header; cut in the data or in the trailer
        return bytes(data[:c.integer(max(0x3C, len(data) // 2), len(data) - 1)])
    if mutation == "isize-lying":  # gzip: ISIZE is the last 4 bytes
        size = struct.unpack_from("<I", data, len(data) - 4)[0]
        struct.pack_into("<I", data, len(data) - 4, (size + c.integer(1, 2**32 - 1)) % 2**32)
        return bytes(data)
    if mutation == "block-size-impossible":  # lz4 legacy: first block's size word
        struct.pack_into("<I", data, 4, c.choice((0, c.integer(0x900000, 0xFFFFFFFF))))
        return bytes(data)
    # checksum-wrong: flip a bit of the stream's integrity check
    if codec == "gzip":
        pos = len(data) - 8 + c.integer(0, 3)  # CRC32
    elif codec == "xz":
        pos = _xz_check_offset(bytes(data)) + c.integer(0, 3)
    elif codec == "bzip2":
        pos = 10 + c.integer(0, 3)  # the first block's CRC, after "BZh9" and 1AY&SY
    elif codec in ("zstd", "lz4-frame"):
        pos = len(data) - 4 + c.integer(0, 3)  # content checksum
    else:  # lzma-alone has no checksum: break the range coder's first byte (always 0)
        pos = 13
    data[pos] ^= 1 << c.integer(0, 7)
    return bytes(data)


def _xz_check_offset(stream: bytes) -> int:
    """Offset of the CRC32 after the first (only) block of an xz stream: the index
    starts with 0x00 and holds the block's unpadded size (multibyte integers)."""
    footer = stream[-12:]
    backward = (struct.unpack_from("<I", footer, 4)[0] + 1) * 4
    index = len(stream) - 12 - backward
    pos = index + 2  # indicator 0x00, number of records (1)
    unpadded, pos = _xz_varint(stream, pos)
    return 12 + unpadded - 4  # stream header is 12 bytes; the check ends the unpadded size


def _xz_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


ZBOOT_NAMES = {"gzip": "gzip", "zstd": "zstd22", "lzma": "lzma", "xz": "xzkern",
               "lz4": "lz4"}
LINUX_PE_MAGIC = 0x818223CD
ZBOOT_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "payload-outside-file": (("zboot/payload-outside-file",), lambda p: True),
    "unknown-compression": (("zboot/unknown-compression",), lambda p: True),
    "compression-mismatch": (("zboot/compression-mismatch",), lambda p: True),
    "no-arm64-image": (("zboot/no-arm64-image",), lambda p: True),
    "zimg-magic": (("arm64/bad-magic",), lambda p: True),
    "payload-truncated": (("layer/truncated",), lambda p: True),
}


def zboot_bytes(stream: bytes, name: str, *, payload_size: int | None = None,
                trailer: int | None = None, inner_size: int = 0,
                magic: bytes = b"zimg") -> bytes:
    """An EFI zboot file as zboot-header.S lays it out, payload at 0x200."""
    size = len(stream) if payload_size is None else payload_size
    file_size = 0x200 + len(stream) + (4 if trailer is not None else 0)
    header = bytearray(0x40)
    header[0:8] = b"MZ\0\0" + magic
    struct.pack_into("<II", header, 8, 0x200, size)
    raw = name.encode("latin-1")[:31]
    header[0x18:0x18 + len(raw)] = raw
    struct.pack_into("<II", header, 0x38, LINUX_PE_MAGIC, 0x40)
    pe = pe_header(size_of_image=max(inner_size, file_size), entry=0x200,
                   file_size=file_size)
    data = (bytes(header) + pe).ljust(0x200, b"\0") + stream
    if trailer is not None:
        data += struct.pack("<I", trailer)
    return data


def _zboot(c: Chooser, mutation: str | None, codec: str | None = None) -> Sample:
    codec = codec or c.choice([k for k in ZBOOT_NAMES if codec_available(k)])
    p = arm64_params(c, "5.8", efi=True, endian="le")
    p["codec"] = codec
    image = arm64_bytes(arm64_header(p), p)
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in ZBOOT_MUTATIONS.items() if ok(p)])
    name = ZBOOT_NAMES[codec]
    trailer = None if codec == "gzip" else len(image)
    kw: dict = {}
    if mutation == "no-arm64-image":
        image = c.choice((bytes(0x200), image[:0x38] + image[0x40:]))
        trailer = None if codec == "gzip" else len(image)
    stream = compress(codec, image)
    if mutation == "payload-outside-file":
        kw["payload_size"] = len(stream) + 4 + c.integer(1, 0xFFFFFF)
    elif mutation == "unknown-compression":
        name = c.choice(("bzip2", "lzo1x", "zstd19", "gz", "xz", "".join(
            c.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(c.integer(1, 12)))))
        if name in ZBOOT_NAMES.values():
            name += "x"
    elif mutation == "compression-mismatch":
        name = c.choice([n for k, n in ZBOOT_NAMES.items() if k != codec])
    elif mutation == "zimg-magic":
        i = c.integer(0, 3)
        kw["magic"] = bytes(b ^ (1 if j == i else 0) for j, b in enumerate(b"zimg"))
    elif mutation == "payload-truncated":
        stream = stream[:c.integer(max(1, len(stream) // 2), len(stream) - 1)]
    data = zboot_bytes(stream, name, trailer=trailer, inner_size=p["image_size"], **kw)
    if mutation is None:
        return Sample("zboot", f"vmlinuz.efi-{codec}", data, ("layer/zboot",), None, p)
    return Sample("zboot", mutation, data, ZBOOT_MUTATIONS[mutation][0], mutation, p)


UIMAGE_COMP = {None: 0, "gzip": 1, "bzip2": 2, "lzma": 3, "lz4-frame": 5, "zstd": 6}
UIMAGE_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "bad-header-crc": (("uimage/bad-header-crc",), lambda p: True),
    "size-lying": (("layer/lying-size",), lambda p: True),
    "compression-mismatch": (("uimage/compression-mismatch",), lambda p: True),
    "bad-magic": (("layer/unknown-format",), lambda p: True),
    "placement": (("arm64/uimage-placement",), lambda p: True),
}


def uimage_bytes(payload: bytes, *, comp: int, arch: int = 22, size: int | None = None,
                 name: bytes = b"Linux-6.1.0", load: int = 0x40080000,
                 bad_crc: bool = False, magic: bytes = b"\x27\x05\x19\x56") -> bytes:
    """A legacy U-Boot image (include/image.h ``legacy_img_hdr``), big-endian."""
    size = len(payload) if size is None else size
    head = bytearray(magic + struct.pack(">IIIIIIBBBB32s", 0, 0, size, load, load,
                                         zlib.crc32(payload) & 0xFFFFFFFF, 5, arch, 2, comp,
                                         name[:32]))
    crc = zlib.crc32(bytes(head)) & 0xFFFFFFFF
    struct.pack_into(">I", head, 4, crc ^ (1 if bad_crc else 0))
    return bytes(head) + payload


def _uimage(c: Chooser, mutation: str | None) -> Sample:
    codec = c.choice([k for k in UIMAGE_COMP if k is None or codec_available(k)])
    p = arm64_params(c, c.choice(("4.6", "5.8")))
    p["codec"] = codec
    header = arm64_header(p)
    image = arm64_bytes(header, p)
    payload = compress(codec, image) if codec else image
    if mutation == "any":
        mutation = c.choice(tuple(UIMAGE_MUTATIONS))
    # ih_load as booting.rst places the Image: text_offset above a 2 MiB-aligned base
    text_offset = header["text_offset"] if header["image_size"] else 0x80000
    kw: dict = {"comp": UIMAGE_COMP[codec], "load": 0x40000000 + text_offset}
    if mutation == "placement":
        kw["load"] += 0x1000 * c.integer(1, 0x1FF)
    elif mutation == "bad-header-crc":
        kw["bad_crc"] = True
    elif mutation == "size-lying":
        kw["size"] = len(payload) + c.integer(1, 0xFFFFFF)
    elif mutation == "compression-mismatch":
        kw["comp"] = c.choice([v for k, v in UIMAGE_COMP.items() if k != codec])
    elif mutation == "bad-magic":
        i = c.integer(0, 3)
        kw["magic"] = bytes(b ^ (0x40 if j == i else 0)
                            for j, b in enumerate(b"\x27\x05\x19\x56"))
    data = uimage_bytes(payload, **kw)
    if mutation is None:
        expect = ("layer/compressed",) if codec else ()
        return Sample("uimage", f"uImage-{codec or 'none'}", data, expect, None, p)
    return Sample("uimage", mutation, data, UIMAGE_MUTATIONS[mutation][0], mutation, p)


ANDROID_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "bad-page-size": (("android/bad-header",), lambda p: p["version"] < 3),
    "bad-version": (("android/bad-header",), lambda p: True),
    "kernel-size-lying": (("layer/lying-size",), lambda p: True),
}


def android_bytes(kernel: bytes, *, version: int, page: int = 2048,
                  kernel_size: int | None = None) -> bytes:
    """An Android boot image (AOSP bootimg.h): header page, then the kernel."""
    size = len(kernel) if kernel_size is None else kernel_size
    if version >= 3:
        head = b"ANDROID!" + struct.pack("<IIII4II", size, 0, 0, 1580, 0, 0, 0, 0, version)
        page = 4096
    else:
        head = b"ANDROID!" + struct.pack("<10I16s", size, 0x10008000, 0, 0x11000000, 0,
                                         0x10F00000, 0x10000100, page, version, 0,
                                         b"kimage")
    head = head.ljust(page if page <= 0x10000 and page >= len(head) else 4096, b"\0")
    data = head + kernel
    pad = (-len(data)) % 2048
    return data + bytes(pad)


def _android(c: Chooser, mutation: str | None) -> Sample:
    p = arm64_params(c, c.choice(("4.6", "5.8")))
    versions = (0, 1, 2, 3, 4)
    if mutation not in (None, "any"):
        versions = tuple(v for v in versions if ANDROID_MUTATIONS[mutation][1]({"version": v}))
    p["version"] = c.choice(versions)
    p["boot_page"] = 4096 if p["version"] >= 3 else c.choice((2048, 4096))
    p["gzip"] = c.boolean()
    image = arm64_bytes(arm64_header(p), p)
    kernel = compress("gzip", image) if p["gzip"] else image
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in ANDROID_MUTATIONS.items() if ok(p)])
    if mutation is not None and not ANDROID_MUTATIONS[mutation][1](p):
        raise ValueError(f"mutation {mutation} does not apply to boot image v{p['version']}")
    kw: dict = {"version": p["version"], "page": p["boot_page"]}
    if mutation == "bad-page-size":
        kw["page"] = c.choice((0, 1000, 3000, 0x20000, 1 << 31))
    elif mutation == "bad-version":
        kw["version"] = c.integer(5, 2**32 - 1)
    elif mutation == "kernel-size-lying":
        kw["kernel_size"] = len(kernel) + 0x800 + c.integer(1, 0xFFFFFF)
    data = android_bytes(kernel, **kw)
    if mutation is None:
        expect = ("layer/compressed",) if p["gzip"] else ()
        return Sample("android-boot", f"boot-v{p['version']}", data, expect, None, p)
    return Sample("android-boot", mutation, data, ANDROID_MUTATIONS[mutation][0], mutation, p)


# --------------------------------------------------------------------------------------
# the catalogue
# --------------------------------------------------------------------------------------

def _compressed_kind(codec: str):
    return lambda c, m: _compressed(c, m, codec)


#: kind -> (builder(chooser, mutation|None|"any") -> Sample, its mutation table)
KINDS: dict[str, tuple[Callable[[Chooser, str | None], Sample], dict]] = {
    "arm64-image": (lambda c, m: _arm64_image(c, m), ARM64_MUTATIONS),
    "ppc64-head": (lambda c, m: _ppc64_raw(c, m), PPC64_MUTATIONS),
    "ppc64-elf": (lambda c, m: _ppc64_elf(c, m), PPC64_ELF_MUTATIONS),
    "arm64-elf": (lambda c, m: _arm64_elf(c, m), ARM64_ELF_MUTATIONS),
    "efi-stub": (lambda c, m: _efi_stub(c, m), {k: v for k, v in ARM64_MUTATIONS.items()
                                               if k.startswith(("pe-", "bad-magic"))
                                               and k != "pe-offset-without-mz"
                                               and k != "bad-magic-noefi"}),
    "zboot": (lambda c, m: _zboot(c, m), ZBOOT_MUTATIONS),
    **{codec: (_compressed_kind(codec), {m: v for m, v in COMPRESSED_MUTATIONS.items()
                                         if v[1]({"codec": codec})}) for codec in CODECS},
    "uimage": (lambda c, m: _uimage(c, m), UIMAGE_MUTATIONS),
    "android-boot": (lambda c, m: _android(c, m), ANDROID_MUTATIONS),
}
#: ``kimage fuzz --format elf`` draws from both ELF kinds.
ALIASES = {"elf": ("ppc64-elf", "arm64-elf"), "all": tuple(KINDS)}


def _efi_stub(c: Chooser, mutation: str | None) -> Sample:
    era, _ = _arm64_fit(c, KINDS["efi-stub"][1], mutation, None, True)
    era = era or c.choice(ARM64_ERAS)
    endian = "le" if era == "3.12" or c.integer(0, 3) else "be"
    if mutation == "any":
        mutation = c.choice(tuple(KINDS["efi-stub"][1]))
    s = _arm64_image(c, mutation, era=era, efi=True, endian=endian)
    s.kind = "efi-stub"
    return s


def available_kinds() -> tuple[str, ...]:
    """The kinds whose codec packages (zstandard, lz4) are installed here."""
    need = {"zstd": "zstd", "lz4": "lz4", "lz4-frame": "lz4-frame"}
    return tuple(k for k in KINDS if k not in need or codec_available(need[k]))


def mutations(kind: str) -> tuple[str, ...]:
    """The near-valid mutations ``generate(kind, ...)`` knows."""
    return tuple(KINDS[kind][1])


def generate(kind: str, c: Chooser, *, valid: bool | None = None,
             mutation: str | None = None) -> Sample:
    """One sample of ``kind``: valid, near-valid, or either (``valid=None``).

    ``mutation`` names a near-valid change (see ``mutations(kind)``); it is drawn among
    those that apply when not given. Codecs whose package is missing raise ImportError.
    """
    if kind in ALIASES:
        kind = c.choice([k for k in ALIASES[kind] if k in available_kinds()])
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join([*KINDS, *ALIASES])}")
    build, table = KINDS[kind]
    if mutation is not None:
        if mutation not in table:
            raise ValueError(f"{kind} has no mutation {mutation!r}")
        return build(c, mutation)
    if valid is None:
        valid = c.integer(0, 2) == 0  # one in three valid
    return build(c, None if valid else "any")


# --------------------------------------------------------------------------------------
# byte-level mutation (the havoc stage of AFL-style fuzzers)
# --------------------------------------------------------------------------------------

INTERESTING = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF,
               0x80000000, 0xFFFFFFFF, 0x80000, 0x200000, 0x72756E30, 0xAA64,
               0xFFFFFFFFFFFFFFFF, 0x8000000000000000)
TOKENS = (b"ARMd", b"MZ", b"PE\0\0", b"\x7fELF", b"zimg", b"run0", b"0nur",
          b"\x1f\x8b\x08", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"\x02\x21\x4c\x18",
          b"\x04\x22\x4d\x18", b"BZh9", b"\x5d\x00\x00", b"\x27\x05\x19\x56", b"ANDROID!",
          b"!<arch>\n", b"\x08\x00\x00\x48", b"\x48\x00\x00\x08", b"\x48\x00\x00\x2c",
          b"\x7f\xe0\x00\x08", b"Linux version ")
#: Offsets the formats read: header fields of arm64, ppc64, ELF, zboot, uImage, Android.
FIELD_OFFSETS = (0, 4, 8, 0xC, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34,
                 0x36, 0x38, 0x3C, 0x40, 0x44, 0x48, 0x54, 0x58, 0x5C, 0x60, 0x78)


def mutate_bytes(c: Chooser, data: bytes, *, max_size: int = 1 << 20,
                 donor: bytes | None = None) -> bytes:
    """1-8 stacked byte-level mutations: bit flips, interesting values at field offsets,
    tokens, truncation, insertion, deletion, splicing with ``donor``."""
    buf = bytearray(data)
    for _ in range(c.integer(1, 8)):
        op = c.integer(0, 10)
        n = len(buf)
        if op == 0 and n:
            i = c.integer(0, n - 1)
            buf[i] ^= 1 << c.integer(0, 7)
        elif op == 1 and n:
            buf[c.integer(0, n - 1)] = c.integer(0, 255)
        elif op in (2, 3) and n >= 8:
            width = c.choice((1, 2, 4, 8))
            value = c.choice(INTERESTING) & ((1 << (8 * width)) - 1)
            if c.boolean():
                value = (value + c.integer(-16, 16)) % (1 << (8 * width))
            base = c.choice(FIELD_OFFSETS) if c.boolean() else c.integer(0, n - 1)
            if c.boolean() and n > 0x1000:  # a field of a header one layer down
                base += c.choice((0x40, 0x200, 0x800, 0x1000, 0x10000))
            base = min(base, n - width)
            buf[base:base + width] = value.to_bytes(width, c.choice(("little", "big")))
        elif op == 4 and n:
            tok = c.choice(TOKENS)
            i = c.integer(0, n - 1)
            buf[i:i + len(tok)] = tok
        elif op == 5 and n > 1:
            del buf[c.integer(1, n - 1):]  # truncate
        elif op == 6 and n:
            i = c.integer(0, n - 1)
            del buf[i:i + c.integer(1, min(256, n - i))]
        elif op == 7:
            i = c.integer(0, n)
            buf[i:i] = c.binary(c.integer(1, 64))
        elif op == 8 and n:
            i = c.integer(0, n - 1)
            buf[i:i + 4] = c.binary(4)
        elif op == 9 and donor:
            i = c.integer(0, n)
            j = c.integer(0, len(donor) - 1)
            buf[i:] = donor[j:j + c.integer(1, 0x4000)]
        elif op == 10 and n:  # copy a block within the input
            i, j = c.integer(0, n - 1), c.integer(0, n - 1)
            length = c.integer(1, min(512, n - i))
            buf[j:j + length] = buf[i:i + length]
    return bytes(buf[:max_size])


# --------------------------------------------------------------------------------------
# mutating a real image (``kimage fuzz --from IMAGE``)
# --------------------------------------------------------------------------------------

#: Decompressing a real image to mutate the header inside is bounded by this.
MAX_INNER = 256 << 20

Mutator = Callable[[Chooser], bytes]


def decompress(codec: str, data: bytes, limit: int = MAX_INNER) -> bytes | None:
    """The whole decoded stream, or None when it does not decode within ``limit``."""
    try:
        if codec == "gzip":
            d = zlib.decompressobj(31)
            out = d.decompress(data, limit + 1)
        elif codec in ("xz", "lzma"):
            import lzma
            d = lzma.LZMADecompressor(lzma.FORMAT_XZ if codec == "xz" else lzma.FORMAT_ALONE)
            out = d.decompress(data, limit + 1)
        elif codec == "bzip2":
            import bz2
            d = bz2.BZ2Decompressor()
            out = d.decompress(data, limit + 1)
        elif codec == "zstd":
            import zstandard
            out = zstandard.ZstdDecompressor().stream_reader(
                data, read_across_frames=False).read(limit + 1)
        elif codec == "lz4-frame":
            import lz4.frame
            out = lz4.frame.LZ4FrameDecompressor().decompress(data, limit + 1)
        elif codec == "lz4":
            import lz4.block
            out, pos = bytearray(), 4
            while pos + 4 <= len(data) and len(out) <= limit:
                size = struct.unpack_from("<I", data, pos)[0]
                if size == 0 or pos + 4 + size > len(data):
                    break
                out += lz4.block.decompress(data[pos + 4:pos + 4 + size],
                                            uncompressed_size=8 << 20)
                pos += 4 + size
            out = bytes(out)
        else:
            return None
    except Exception:
        return None
    return out if len(out) <= limit else None


def _codec_of(data: bytes) -> str | None:
    magics = (("gzip", b"\x1f\x8b\x08"), ("xz", b"\xfd7zXZ\x00"), ("zstd", b"\x28\xb5\x2f\xfd"),
              ("lz4", LZ4_LEGACY_MAGIC), ("lz4-frame", b"\x04\x22\x4d\x18"),
              ("lzma", b"\x5d\x00\x00"))
    for codec, magic in magics:
        if data.startswith(magic):
            return codec
    if data.startswith(b"BZh") and len(data) > 3 and 0x31 <= data[3] <= 0x39:
        return "bzip2"
    return None


def image_mutations(data: bytes, where: str = "raw", depth: int = 0, *,
                    limit: int = MAX_INNER) -> dict[str, tuple[tuple[str, ...], Mutator]]:
    """Field-level mutations of the image ``data``: name -> (expected rule IDs,
    ``mutate(chooser) -> new file bytes``).

    The wrappers kimage unwraps (EFI zboot, uImage, compression, ELF) are recognised by
    their magic; each gets mutations of its own fields, and the header inside it (arm64
    Image through the twin, ppc64 head through the twin) gets field mutations whose
    result is wrapped again (recompressed, sizes and CRCs updated). Names are layer
    paths, e.g. ``zboot>gzip>arm64:image-size-zero``. A compressed layer is decoded
    whole to reach the header inside; one that decodes to more than ``limit`` bytes gets
    only its own mutations."""
    out: dict[str, tuple[tuple[str, ...], Mutator]] = {}
    if depth > 4 or len(data) < 0x40:
        return out
    if data[:8] == b"MZ\0\0zimg":
        _zboot_targets(data, out, depth, limit)
    elif data[:4] == b"\x27\x05\x19\x56":
        _uimage_targets(data, out, depth, limit)
    elif data[:8] == b"ANDROID!":
        _android_targets(data, out, depth, limit)
    elif data[:4] == b"\x7fELF":
        _elf_targets(data, out, where)
    elif _codec_of(data):
        _stream_targets(data, out, depth, limit)
    elif data[arm64_image.MAGIC_OFFSET:arm64_image.MAGIC_OFFSET + 4] == arm64_image.MAGIC:
        for name, (expect, fn) in _arm64_targets(data, len(data), where).items():
            out[f"arm64:{name}"] = (expect, _splice(data, 0, fn))
    elif _ppc64_parses(data):
        for name, (expect, fn) in _ppc64_targets(data[:0x100], where).items():
            out[f"ppc64:{name}"] = (expect, _splice(data, 0, fn))
    return out


def _splice(data: bytes, offset: int, fn: Callable[[Chooser], bytes]) -> Mutator:
    def apply(c: Chooser) -> bytes:
        new = fn(c)
        return data[:offset] + new + data[offset + len(new):]
    return apply


def _ppc64_parses(head: bytes) -> bool:
    try:
        ppc64_head.parse(head[:0x100])
    except Exception:
        return False
    return len(head) >= 0x100


def _arm64_targets(data: bytes, payload: int, where: str):
    """Mutations of the 64-byte header at the start of ``data``: name -> (expect, fn)."""
    h = arm64_image.parse(data[:64])
    header = {k: h[k] for k in arm64_image.SEQ_FIELDS if k != "magic"}
    header["flags"] = {k: h.flags[k] for k in arm64_image.FLAG_FIELDS}
    pe = data[h.pe_offset:h.pe_offset + 6] if h.pe_offset else b""
    efi_ok = h.has_efi_stub and pe[:4] == PE_SIGNATURE and pe[4:6] == b"\x64\xaa"
    legacy = h.image_size == 0
    transformed = where in ("compressed", "zboot")

    def change(**fields) -> Callable[[Chooser], bytes]:
        def fn(c: Chooser) -> bytes:
            new = {**header, "flags": dict(header["flags"])}
            for key, value in fields.items():
                value = value(c) if callable(value) else value
                if key.startswith("flags_"):
                    new["flags"][key[6:]] = value
                else:
                    new[key] = value
            return arm64_image.build(new)
        return fn

    def bad_magic(c: Chooser) -> bytes:
        raw = bytearray(data[:64])
        raw[0x38 + c.integer(0, 3)] ^= c.integer(1, 255)
        return bytes(raw)

    if efi_ok or where == "elf":
        magic_expect = "arm64/bad-magic"
    else:
        magic_expect = "zboot/no-arm64-image" if where == "zboot" else "layer/unknown-format"
    out = {"bad-magic": ((magic_expect,), bad_magic),
           "reserved-fields": (("arm64/reserved-fields",), change(
               res3=lambda c: c.integer(1, 2**64 - 1)))}
    if not legacy:
        t = h.text_offset
        out.update({
            "image-size-zero": (("arm64/image-size-zero",), change(image_size=0)),
            "text-offset-unaligned": (("arm64/text-offset-unaligned",), change(
                text_offset=lambda c: (t & ~0xFFF) + c.integer(1, 0xFFF))),
            "reserved-flags": (("arm64/reserved-flags",), change(
                flags_reserved=lambda c: c.integer(1, 2**60 - 1))),
            "entry-into-header": (("arm64/entry-outside-image",), change(
                code1=lambda c: _b(4, 4 * c.integer(0, 0xF)))),
        })
        if header["flags"]["page_size"]:
            out["page-size-unspecified"] = (("arm64/page-size-unspecified",),
                                            change(flags_page_size=0))
        if not transformed and payload > t + 0x1000:
            out["image-size-lying"] = (("arm64/image-size-smaller-than-file",), change(
                image_size=lambda c: 0x1000 * c.integer(1, (payload - t - 1) // 0x1000)))
        if not transformed and payload < 0x7000000:
            out["entry-past-end"] = (("arm64/entry-outside-image",), change(
                code1=lambda c: _b(4, (payload + 3) // 4 * 4 + 4 * c.integer(0, 0x1000))))
    if efi_ok:
        out["pe-offset-invalid"] = (("arm64/pe-offset-invalid",), change(
            pe_offset=lambda c: (h.pe_offset + 4 * c.integer(1, 0x40)) % 2**32))
    return out


def _ppc64_targets(head: bytes, where: str):
    top = ppc64_head.parse(head)
    body = {k: top.body[k] for k in ppc64_head.BODY_FIELDS}
    if top.body.fixup_endian is not None:
        body["fixup_endian"] = {k: top.body.fixup_endian[k]
                                for k in ("tdi", "skip_branch", "trampoline")}
    order = ">" if not top.is_le else "<"

    def change(**fields) -> Callable[[Chooser], bytes]:
        def fn(c: Chooser) -> bytes:
            new = dict(body)
            for key, value in fields.items():
                new[key] = value(c) if callable(value) else value
            return ppc64_head.build({"is_le": top.is_le, "body": new})
        return fn

    out = {
        "run-at-load-unknown": (("ppc64/run-at-load-unknown",), change(
            run_at_load=lambda c: c.choice((c.integer(2, ppc64_head.RUN0 - 1),
                                            c.integer(ppc64_head.RUN0 + 1, 2**32 - 1))))),
        "run-at-load-preset": (("ppc64/run-at-load-preset",), change(run_at_load=1)),
        "not-relocatable": (("ppc64/not-relocatable",), change(run_at_load=0)),
        "spinloop-set": (("ppc64/spinloop-set",), change(
            secondary_hold_spinloop=lambda c: c.integer(1, 2**64 - 1))),
    }
    if top.body.fixup_endian is not None:
        out["secondary-entry"] = (("ppc64/secondary-entry",), change(
            secondary_hold=lambda c: struct.pack(order + "I", MFMSR_R24) + bytes(0x9C)))
    return out


def _elf_targets(data: bytes, out: dict, where: str) -> None:
    if len(data) < 0x40 or data[4] != 2 or data[5] not in (1, 2):
        return
    o = ">" if data[5] == 2 else "<"
    machine = struct.unpack_from(o + "H", data, 0x12)[0]
    phoff, = struct.unpack_from(o + "Q", data, 0x20)
    phentsize, phnum = struct.unpack_from(o + "HH", data, 0x36)
    first = None
    loads = 0
    for i in range(min(phnum, 4096)):
        at = phoff + i * phentsize
        if at + 56 > len(data):
            return
        if struct.unpack_from(o + "I", data, at)[0] == PT_LOAD:
            loads += 1
            if first is None:
                first = at
    if first is None:
        return
    p_offset, = struct.unpack_from(o + "Q", data, first + 8)
    filesz, = struct.unpack_from(o + "Q", data, first + 0x20)

    def patch(at: int, fmt: str, value) -> Mutator:
        def fn(c: Chooser) -> bytes:
            raw = bytearray(data)
            struct.pack_into(o + fmt, raw, at, value(c) if callable(value) else value)
            return bytes(raw)
        return fn

    out["elf:machine"] = (("elf/unsupported-machine",), patch(
        0x12, "H", lambda c: c.choice((62, 243, 40, 8, 2))))
    if p_offset <= len(data):
        out["elf:filesz-lying"] = (("elf/truncated",), patch(
            first + 0x20, "Q", lambda c: len(data) - p_offset + c.integer(1, 0xFFFFFF)))
    out["elf:ident"] = (("elf/malformed",), lambda c: _elf_ident_broken(c, data))
    if loads == 1:
        out["elf:no-load"] = (("elf/no-load-segment",), patch(first, "I", PT_NOTE))
    if p_offset + filesz <= len(data) and filesz > 1:
        out["elf:truncated"] = (("elf/truncated",), lambda c: data[:p_offset + c.integer(
            0, filesz - 1)])
    inner = data[p_offset:p_offset + min(filesz, 0x100)]
    if machine == EM_PPC64 and _ppc64_parses(inner):
        out["elf:endian-mismatch"] = (("ppc64/endian-mismatch",), _flip_elf_data(data))
        for name, (expect, fn) in _ppc64_targets(inner, "elf").items():
            out[f"elf>ppc64:{name}"] = (expect, _splice(data, p_offset, fn))
    elif (machine == EM_AARCH64 and filesz >= 0x40
          and data[p_offset + 0x38:p_offset + 0x3C] == arm64_image.MAGIC):
        payload = data[p_offset:p_offset + filesz]
        for name, (expect, fn) in _arm64_targets(payload, len(payload), "elf").items():
            out[f"elf>arm64:{name}"] = (expect, _splice(data, p_offset, fn))


def _flip_elf_data(data: bytes) -> Mutator:
    """The ELF rewritten in the other byte order (headers only; the head stays): its
    EI_DATA then contradicts the head's FIXUP_ENDIAN."""
    def fn(c: Chooser) -> bytes:
        src = ">" if data[5] == 2 else "<"
        dst = "<" if src == ">" else ">"
        raw = bytearray(data)
        raw[5] = 1 if data[5] == 2 else 2
        ehdr = struct.unpack_from(src + "HHIQQQIHHHHHH", data, 16)
        struct.pack_into(dst + "HHIQQQIHHHHHH", raw, 16, *ehdr)
        phoff, phentsize, phnum = ehdr[4], ehdr[8], ehdr[9]
        for i in range(min(phnum, 4096)):
            at = phoff + i * phentsize
            struct.pack_into(dst + "IIQQQQQQ", raw, at,
                             *struct.unpack_from(src + "IIQQQQQQ", data, at))
        return bytes(raw)
    return fn


def _stream_targets(data: bytes, out: dict, depth: int, limit: int) -> None:
    codec = _codec_of(data)
    out[f"{codec}:stream-truncated"] = (("layer/truncated",), lambda c: data[:c.integer(
        max(0x3C, len(data) // 2), len(data) - 1)])
    if codec == "gzip":
        out["gzip:checksum-wrong"] = (("layer/corrupt",), lambda c: _break_stream(
            c, codec, data, "checksum-wrong"))
    inner = decompress(codec, data, limit)
    if inner is None:
        return
    for name, (expect, fn) in image_mutations(inner, "compressed", depth + 1, limit=limit).items():
        if ":stream-" in name or name.endswith("checksum-wrong"):
            continue
        out[f"{codec}>{name}"] = (expect, _recompress(codec, fn))


def _recompress(codec: str, fn: Mutator) -> Mutator:
    return lambda c: compress(codec, fn(c))


def _zboot_targets(data: bytes, out: dict, depth: int, limit: int) -> None:
    offset, size = struct.unpack_from("<II", data, 8)
    name = data[0x18:0x38].split(b"\0", 1)[0].decode("latin-1")

    def header(**fields) -> Mutator:
        def fn(c: Chooser) -> bytes:
            raw = bytearray(data)
            for at, value in fields.items():
                at = int(at[1:], 16)
                value = value(c) if callable(value) else value
                if isinstance(value, bytes):
                    raw[at:at + len(value)] = value
                else:
                    struct.pack_into("<I", raw, at, value)
            return bytes(raw)
        return fn

    out["zboot:payload-outside-file"] = (("zboot/payload-outside-file",), header(
        x0c=lambda c: min(2**32 - 1, max(0, len(data) - offset) + c.integer(1, 0xFFFFFF))))
    out["zboot:unknown-compression"] = (("zboot/unknown-compression",), header(
        x18=b"lzo1x\0\0\0"))
    codec = {"gzip": "gzip", "lz4": "lz4", "lzma": "lzma", "xzkern": "xz",
             "zstd22": "zstd", "zstd": "zstd"}.get(name)
    if codec is not None:
        other = "zstd22\0" if codec == "gzip" else "gzip\0\0\0"
        out["zboot:compression-mismatch"] = (("zboot/compression-mismatch",), header(
            x18=other.encode()))
    out["zboot:zimg-magic"] = (("arm64/bad-magic",), header(x04=b"zimG"))
    if codec is None or offset + size > len(data):
        return
    inner = decompress(codec, data[offset:offset + size], limit)
    if inner is None:
        return
    tail = data[offset + size:]
    for mname, (expect, fn) in image_mutations(inner, "zboot", depth + 1, limit=limit).items():
        out[f"zboot>{codec}>{mname}"] = (expect, _rezboot(data[:offset], codec, fn, tail))


def _rezboot(head: bytes, codec: str, fn: Mutator, tail: bytes) -> Mutator:
    def apply(c: Chooser) -> bytes:
        inner = fn(c)
        stream = compress(codec, inner)
        raw = bytearray(head)
        struct.pack_into("<I", raw, 0xC, len(stream))
        trailer = struct.pack("<I", len(inner)) if len(tail) >= 4 and codec != "gzip" else b""
        return bytes(raw) + stream + trailer + tail[len(trailer):]
    return apply


def _uimage_targets(data: bytes, out: dict, depth: int, limit: int) -> None:
    size, = struct.unpack_from(">I", data, 12)
    comp = data[31]

    def header(at: int, fmt: str, value, crc: bool = True) -> Mutator:
        def fn(c: Chooser) -> bytes:
            raw = bytearray(data)
            struct.pack_into(">" + fmt, raw, at, value(c) if callable(value) else value)
            if crc:
                struct.pack_into(">I", raw, 4, 0)
                struct.pack_into(">I", raw, 4, zlib.crc32(bytes(raw[:64])) & 0xFFFFFFFF)
            return bytes(raw)
        return fn

    hcrc, = struct.unpack_from(">I", data, 4)
    out["uimage:bad-header-crc"] = (("uimage/bad-header-crc",), header(
        4, "I", lambda c: hcrc ^ (1 << c.integer(0, 31)), crc=False))
    out["uimage:size-lying"] = (("layer/lying-size",), header(
        12, "I", lambda c: min(2**32 - 1, len(data) - 64 + c.integer(1, 0xFFFFFF))))
    out["uimage:compression-mismatch"] = (("uimage/compression-mismatch",), header(
        31, "B", 0 if comp else 1))
    codecs = {0: None, 1: "gzip", 2: "bzip2", 3: "lzma", 5: "lz4-frame", 6: "zstd"}
    if comp not in codecs or 64 + size > len(data):
        return
    codec = codecs[comp]
    payload = data[64:64 + size]
    inner = decompress(codec, payload, limit) if codec else payload
    if inner is None:
        return
    for mname, (expect, fn) in image_mutations(inner, "compressed" if codec else "raw",
                                               depth + 1, limit=limit).items():
        if codec is None and mname.startswith(("arm64:image-size-lying", "arm64:entry-past")):
            continue  # a raw uImage payload: fine, but keep the paths simple
        out[f"uimage>{mname}"] = (expect, _reuimage(data, codec, fn))


def _android_targets(data: bytes, out: dict, depth: int, limit: int) -> None:
    kernel_size, = struct.unpack_from("<I", data, 8)
    version, = struct.unpack_from("<I", data, 40)
    page = 4096 if version >= 3 else struct.unpack_from("<I", data, 36)[0]

    def patch(at: int, value) -> Mutator:
        def fn(c: Chooser) -> bytes:
            raw = bytearray(data)
            struct.pack_into("<I", raw, at, value(c) if callable(value) else value)
            return bytes(raw)
        return fn

    out["android:kernel-size-lying"] = (("layer/lying-size",), patch(
        8, lambda c: min(2**32 - 1, len(data) + c.integer(1, 0xFFFFFF))))
    out["android:bad-version"] = (("android/bad-header",), patch(
        40, lambda c: c.integer(5, 2**32 - 1)))
    if version < 3:
        out["android:bad-page-size"] = (("android/bad-header",), patch(
            36, lambda c: c.choice((0, 1000, 3000, 0x20000))))
    if not 2048 <= page <= 65536 or page + kernel_size > len(data):
        return
    kernel = data[page:page + kernel_size]
    codec = _codec_of(kernel)
    inner = decompress(codec, kernel, limit) if codec else kernel
    if inner is None:
        return
    for mname, (expect, fn) in image_mutations(inner, "compressed" if codec else "raw",
                                               depth + 1, limit=limit).items():
        if ":stream-" in mname or mname.endswith("checksum-wrong"):
            continue
        out[f"android>{mname}"] = (expect, _reandroid(data, page, codec, fn))


def _reandroid(data: bytes, page: int, codec: str | None, fn: Mutator) -> Mutator:
    def apply(c: Chooser) -> bytes:
        inner = fn(c)
        kernel = compress(codec, inner) if codec else inner
        head = bytearray(data[:page])
        struct.pack_into("<I", head, 8, len(kernel))
        return bytes(head) + kernel + bytes((-len(kernel)) % 2048)
    return apply


def _reuimage(data: bytes, codec: str | None, fn: Mutator) -> Mutator:
    def apply(c: Chooser) -> bytes:
        inner = fn(c)
        payload = compress(codec, inner) if codec else inner
        head = bytearray(data[:64])
        struct.pack_into(">I", head, 12, len(payload))
        struct.pack_into(">I", head, 24, zlib.crc32(payload) & 0xFFFFFFFF)
        struct.pack_into(">I", head, 4, 0)
        struct.pack_into(">I", head, 4, zlib.crc32(bytes(head)) & 0xFFFFFFFF)
        return bytes(head) + payload
    return apply


def from_image(data: bytes, c: Chooser, *, kind: str = "from-image",
               targets: dict | None = None) -> Sample:
    """One near-valid variant of the real image ``data`` (see ``image_mutations``)."""
    targets = targets if targets is not None else image_mutations(data)
    if not targets:
        raise ValueError("no header kimage knows how to mutate was found in the image")
    name = c.choice(sorted(targets))
    expect, fn = targets[name]
    return Sample(kind, name.replace(">", "_").replace(":", "-"), fn(c), expect, name,
                  {"source_size": len(data)})
