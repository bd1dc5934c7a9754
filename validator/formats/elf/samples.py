"""ELF vmlinux files for the seed corpus (a ppc64 head or an arm64 Image in the first
PT_LOAD), their ELF-level mutations, and mutations of a real vmlinux's ELF headers."""

from __future__ import annotations

import struct
from collections.abc import Callable

from validator.formats.arm64_image import twin as arm64_image
from validator.formats.arm64_image.samples import (
    _arm64_fit,
    _arm64_targets,
    _post317,
    arm64_bytes,
    arm64_header,
    arm64_params,
    arm64_slug,
    arm64_valid_expect,
)
from validator.formats.elf import EM_AARCH64, EM_PPC64, PT_LOAD, PT_NOTE
from validator.formats.elf.writer import elf32, elf64
from validator.formats.ppc64_head.samples import (
    PPC64_MUTATIONS,
    _ppc64_fit,
    _ppc64_head_bytes,
    _ppc64_parses,
    _ppc64_targets,
    ppc64_params,
    ppc64_slug,
    ppc64_valid_expect,
)
from validator.formats.sampling import Chooser, Mutator, Sample, splice

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
        # machines kimage neither describes nor names (validator/formats/foreign)
        kw["machine"] = c.choice((62, 3, 0, c.integer(0x9100, 0xFFFF)))
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
        0x12, "H", lambda c: c.choice((62, 3, 0, 0xBEEF))))
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
            out[f"elf>ppc64:{name}"] = (expect, splice(data, p_offset, fn))
    elif (machine == EM_AARCH64 and filesz >= 0x40
          and data[p_offset + 0x38:p_offset + 0x3C] == arm64_image.MAGIC):
        payload = data[p_offset:p_offset + filesz]
        for name, (expect, fn) in _arm64_targets(payload, len(payload), "elf").items():
            out[f"elf>arm64:{name}"] = (expect, splice(data, p_offset, fn))


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


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"ppc64-elf": (lambda c, m: _ppc64_elf(c, m), PPC64_ELF_MUTATIONS),
         "arm64-elf": (lambda c, m: _arm64_elf(c, m), ARM64_ELF_MUTATIONS)}


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """Mutations of an ELF's headers and of the header in its first PT_LOAD."""
    if data[:4] != b"\x7fELF":
        return False
    _elf_targets(data, out, where)
    return True
