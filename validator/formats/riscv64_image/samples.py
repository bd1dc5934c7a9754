"""riscv64 Images for the seed corpus: valid ones (with and without the EFI stub),
near-valid ones (one field off, with the finding it must give) and field mutations of a
real Image's header. Built through the construct twin; the EFI stub's PE headers through
the PE writer."""

from __future__ import annotations

from collections.abc import Callable

from validator.formats.elf import EM_RISCV
from validator.formats.elf.writer import elf64
from validator.formats.pe.writer import pe_header
from validator.formats.riscv64_image import (
    OLD_MAGIC,
    PE_MACHINE_RISCV64,
    TEXT_OFFSET_RV64,
    VERSION_0_2,
)
from validator.formats.riscv64_image import twin as riscv
from validator.formats.sampling import Chooser, Sample, splice

PE_OFFSET = 0x40
#: code0/code1 of 6.12's head.S with the EFI stub ("MZ": c.li s4, -13; j _start_kernel)
#: and without it (j _start_kernel; nop), as the Debian 6.12 Image holds them.
EFI_CODE0, EFI_CODE1 = 0x106F5A4D, 0x00010D60
PLAIN_CODE0, PLAIN_CODE1 = 0x0040006F, 0x00000013
BANNER = b"Linux version 6.12.0-kimage (kimage@example.invalid) (gcc 14.2.0) #1 SMP\n\0"


def riscv_params(c: Chooser) -> dict:
    payload = 0x200 * c.integer(2, 16)
    return {"efi": c.boolean(), "payload": payload,
            "bss": 0x1000 * c.integer(0, 64)}


def riscv_fields(p: dict) -> dict:
    size = PE_OFFSET + 0x200 + p["payload"]
    return {
        "code0": EFI_CODE0 if p["efi"] else PLAIN_CODE0,
        "code1": EFI_CODE1 if p["efi"] else PLAIN_CODE1,
        "text_offset": TEXT_OFFSET_RV64, "image_size": size + p["bss"], "flags": 0,
        "version": {"raw": VERSION_0_2}, "res1": 0, "res2": 0, "magic": OLD_MAGIC,
        "pe_offset": PE_OFFSET if p["efi"] else 0,
    }


def riscv_image(p: dict, fields: dict | None = None) -> bytes:
    """A whole Image: the header, the PE headers at 0x40 (with the EFI stub), a stand-in
    text with the banner, up to image_size less the BSS."""
    fields = fields or riscv_fields(p)
    size = PE_OFFSET + 0x200 + p["payload"]
    data = bytearray(riscv.build(fields).ljust(size, b"\0"))
    if p["efi"]:
        pe = pe_header(size_of_image=size + p["bss"], entry=0x1000, file_size=size,
                       machine=PE_MACHINE_RISCV64)
        data[PE_OFFSET:PE_OFFSET + len(pe)] = pe
    data[-len(BANNER) - 0x10:-0x10] = BANNER
    return bytes(data)


def riscv_valid_expect(p: dict) -> tuple[str, ...]:
    return () if p["efi"] else ("riscv64/no-efi-stub",)


def _set(**changes) -> Callable[[dict, Chooser], dict]:
    def change(fields: dict, c: Chooser) -> dict:
        return {**fields, **{k: v(c) if callable(v) else v for k, v in changes.items()}}
    return change


_ALWAYS = lambda p: True  # noqa: E731
#: mutation -> (expected rule IDs, applies to these params?, the field change or None)
_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool], Callable | None]] = {
    "image-size-zero": (("riscv64/image-size-zero",), _ALWAYS, _set(image_size=0)),
    "big-endian": (("riscv64/big-endian",), _ALWAYS, _set(flags=1)),
    "image-size-huge": (("riscv64/image-size-implausible",), _ALWAYS,
                        _set(image_size=lambda c: c.choice((1 << 30, 1 << 32, (1 << 64) - 1)))),
    "version-too-old": (("riscv64/version-too-old",), _ALWAYS,
                        _set(version=lambda c: {"raw": c.choice((0, 1))})),
    "text-offset": (("riscv64/text-offset-not-power-of-two",), _ALWAYS,
                    _set(text_offset=lambda c: c.choice((0, 0x300000, 0x201000)))),
    "image-size-small": (("riscv64/image-size-smaller-than-file",), _ALWAYS,
                         _set(image_size=lambda c: 0x100 * c.integer(1, 3))),
    "old-magic": (("riscv64/old-magic-missing",), _ALWAYS,
                  _set(magic=lambda c: c.choice((bytes(8), b"RISCV\0\0\x01")))),
    "pe-offset-invalid": (("riscv64/pe-offset-invalid",), lambda p: p["efi"],
                          _set(pe_offset=lambda c: c.choice((0x100, 0x7FFFFFF0)))),
    "pe-machine": (("riscv64/pe-machine",), lambda p: p["efi"], None),
    "bad-magic": (("riscv64/bad-magic",), _ALWAYS, None),
    "truncated-header": (("riscv64/truncated-header",), _ALWAYS, None),
}
RISCV_MUTATIONS = {name: (expect, ok) for name, (expect, ok, _) in _MUTATIONS.items()}


def _mutated(c: Chooser, p: dict, mutation: str) -> bytes:
    _, _, change = _MUTATIONS[mutation]
    if change is not None:
        return riscv_image(p, change(riscv_fields(p), c))
    data = riscv_image(p)
    if mutation == "pe-machine":  # another PE machine than riscv64's (arm64's, x86-64's)
        at = PE_OFFSET + 4
        machine = c.choice((0xAA64, 0x8664))
        return data[:at] + machine.to_bytes(2, "little") + data[at + 2:]
    if mutation == "bad-magic":  # the deprecated magic still says RISC-V
        return data[:0x38] + c.choice((b"\0\0\0\0", b"RSC\x04", b"RSCV")) + data[0x3C:]
    return data[:c.integer(0x3C, 0x3F)]  # truncated-header: the magic2 kept


def _riscv_raw(c: Chooser, mutation: str | None) -> Sample:
    p = riscv_params(c)
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in RISCV_MUTATIONS.items() if ok(p)])
    if mutation is None:
        return Sample("riscv64-image", "efi" if p["efi"] else "plain", riscv_image(p),
                      riscv_valid_expect(p), None, p)
    if not RISCV_MUTATIONS[mutation][1](p):
        p = {**p, "efi": True}
    return Sample("riscv64-image", mutation, _mutated(c, p, mutation),
                  RISCV_MUTATIONS[mutation][0], mutation, p)


def _riscv_elf(c: Chooser, mutation: str | None) -> Sample:
    """A riscv vmlinux: the Image (no EFI stub) as the first PT_LOAD of an EM_RISCV ELF."""
    p = {**riscv_params(c), "efi": False}
    image = riscv_image(p)
    if mutation is not None:  # "bad-magic": magic2 broken inside the vmlinux
        image = image[:0x38] + c.choice((b"\0\0\0\0", b"RSC\x04")) + image[0x3C:]
    data = elf64(image, endian="little", machine=EM_RISCV, vaddr=0xFFFFFFFF80000000)
    if mutation is not None:
        return Sample("riscv64-elf", "bad-magic", data, ("riscv64/bad-magic",), "bad-magic", p)
    return Sample("riscv64-elf", "vmlinux", data, ("elf/riscv64-vmlinux",), None, p)


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"riscv64-image": (_riscv_raw, RISCV_MUTATIONS),
         "riscv64-elf": (_riscv_elf, {"bad-magic": (("riscv64/bad-magic",), _ALWAYS)})}


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """Field mutations of the header of a riscv64 Image at the start of ``data``."""
    try:
        top = riscv.parse(data)
    except Exception:
        return False
    fields = {name: top[name] for name in riscv.SEQ_FIELDS if name != "magic2"}
    fields["version"] = {"raw": top.version.raw}
    p = {"efi": top.has_efi_stub}
    for name, (expect, ok, change) in _MUTATIONS.items():
        if change is None or not ok(p) or name == "image-size-small":
            continue
        out[f"riscv64:{name}"] = (expect, splice(data, 0, lambda c, change=change:
                                                 riscv.build(change(fields, c))))
    out["riscv64:bad-magic"] = (("riscv64/bad-magic",), splice(data, 0x38, lambda c: b"\0" * 4))
    return True
