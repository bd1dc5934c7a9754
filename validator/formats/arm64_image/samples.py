"""arm64 Images of every era for the seed corpus: valid ones, near-valid ones (one field
off, with the finding it must give) and field mutations of a real Image's header.
Built through the construct twin."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

from validator.formats.arm64_image import EFI_CODE0, NOP, OLD_EFI_CODE0
from validator.formats.arm64_image import twin as arm64_image
from validator.formats.pe import HEADERS_SIZE as PE_HEADERS_SIZE
from validator.formats.pe import PE_SIGNATURE
from validator.formats.pe.writer import pe_header
from validator.formats.sampling import Chooser, Sample, splice

ARM64_ERAS = ("3.12", "3.17", "4.6", "5.8")


PAGES = {"4k": 1, "16k": 2, "64k": 3}


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


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"arm64-image": (lambda c, m: _arm64_image(c, m), ARM64_MUTATIONS)}


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """Field mutations of an arm64 Image header at the start of ``data`` (False: none)."""
    if data[arm64_image.MAGIC_OFFSET:arm64_image.MAGIC_OFFSET + 4] != arm64_image.MAGIC:
        return False
    for name, (expect, fn) in _arm64_targets(data, len(data), where).items():
        out[f"arm64:{name}"] = (expect, splice(data, 0, fn))
    return True
