#!/usr/bin/env python3
"""Write the synthetic corpus: a header for every era and flag combination.

Headers are built with kimage's construct twins from a table of parameters; the
expected facts in ``synthetic.json`` are read off that table with the meanings that
booting.rst and head_64.S give (shared/reference/), never by parsing the result.

    python3 corpus/make_synthetic.py [--check]

``--check`` rebuilds in memory and fails when a committed file differs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from validator.formats.arm64_image import EFI_CODE0, NOP, OLD_EFI_CODE0  # noqa: E402
from validator.formats.arm64_image import twin as arm64_image  # noqa: E402
from validator.formats.elf import EM_PPC64  # noqa: E402
from validator.formats.elf.writer import elf64  # noqa: E402
from validator.formats.pe import PE_SIGNATURE  # noqa: E402
from validator.formats.ppc64_head import twin as ppc64_head  # noqa: E402

PAGE = {"4k": (1, 4096), "16k": (2, 16384), "64k": (3, 65536)}
#: "PE\0\0" and COFF Machine IMAGE_FILE_MACHINE_ARM64, where res5 points.
PE_HEADER_START = PE_SIGNATURE + (0xAA64).to_bytes(2, "little")
#: code1 = b 0x1000 from offset 4, and the file long enough to hold the target.
ENTRY = 0x1000
BRANCH = 0x14000000 | ((ENTRY - 4) // 4)
FILE_SIZE = ENTRY + 0x10


def arm64_items():
    """(name, bytes, facts) for every era and flag combination."""
    image_size = 0x01AA0000  # Debian 6.1.0-50-cloud-arm64 (shared/reference/peers.md)
    branch = BRANCH

    # 3.17 and later: flags present; text_offset 0x80000 before 5.8, 0 since.
    for era, text_offset in (("v4.6", 0x80000), ("v5.8", 0)):
        for page, endian, anywhere, efi in itertools.product(
                PAGE, ("le", "be"), (True, False), (True, False)):
            code, size = PAGE[page]
            header = {
                "code0": EFI_CODE0 if efi else NOP, "code1": branch,
                "text_offset": text_offset, "image_size": image_size,
                "flags": {"be": endian == "be", "page_size": code, "phys_base": anywhere,
                          "reserved": 0},
                "res2": 0, "res3": 0, "res4": 0, "pe_offset": 0x40 if efi else 0,
            }
            name = (f"arm64/{era}-{page}-{endian}-{'anywhere' if anywhere else 'dram-base'}"
                    f"-{'efi' if efi else 'noefi'}.img")
            facts = {
                "arch": "arm64", "endianness": "big" if endian == "be" else "little",
                "page_size": size, "placement": "anywhere" if anywhere else "dram-base",
                "text_offset": text_offset, "image_size": image_size, "efi_stub": efi,
            }
            yield name, _arm64_bytes(header, efi), facts

    # 3.17 - 4.5: only the endianness bit (page size unspecified, placement 0).
    for endian, efi in itertools.product(("le", "be"), (True, False)):
        header = {
            "code0": OLD_EFI_CODE0 if efi else NOP, "code1": branch,
            "text_offset": 0x80000, "image_size": image_size,
            "flags": {"be": endian == "be", "page_size": 0, "phys_base": False, "reserved": 0},
            "res2": 0, "res3": 0, "res4": 0, "pe_offset": 0x40 if efi else 0,
        }
        facts = {
            "arch": "arm64", "endianness": "big" if endian == "be" else "little",
            "page_size": None, "placement": "dram-base", "text_offset": 0x80000,
            "image_size": image_size, "efi_stub": efi,
        }
        yield (f"arm64/v3.17-{endian}-{'efi' if efi else 'noefi'}.img",
               _arm64_bytes(header, efi), facts)

    # 3.12 - 3.16: image_size and flags reserved (zero); text_offset in kernel byte order,
    # which loaders must ignore in favour of 0x80000 (booting.rst).
    for endian, efi in (("le", False), ("be", False), ("le", True)):
        stored = 0x80000 if endian == "le" else int.from_bytes(
            (0x80000).to_bytes(8, "big"), "little")
        header = {
            "code0": OLD_EFI_CODE0 if efi else 0x14000010, "code1": 0,
            "text_offset": stored, "image_size": 0,
            "flags": {"be": False, "page_size": 0, "phys_base": False, "reserved": 0},
            "res2": 0, "res3": 0, "res4": 0, "pe_offset": 0x40 if efi else 0,
        }
        facts = {
            "arch": "arm64", "endianness": "big" if endian == "be" else "little",
            "page_size": None, "placement": "dram-base", "text_offset": 0x80000,
            "image_size": 0, "efi_stub": efi,
        }
        yield (f"arm64/v3.12-{endian}-{'efi' if efi else 'noefi'}.img",
               _arm64_bytes(header, efi), facts)


def _arm64_bytes(header: dict, efi: bool) -> bytes:
    data = arm64_image.build(header)
    if efi:
        data += PE_HEADER_START
    # The entry code1 branches to: a nop, so that the entry lies inside the file.
    return data.ljust(ENTRY, b"\0") + (0xD503201F).to_bytes(4, "little").ljust(0x10, b"\0")


def _trampoline(words: int, endian: str) -> bytes:
    # Stand-in words stored byte-reversed, as FIXUP_ENDIAN stores its trampoline.
    other = "<" if endian == "big" else ">"
    return b"".join(struct.pack(other + "I", 0x60000000 + i) for i in range(words))


RUN_AT_LOAD = {"run0": ppc64_head.RUN0, "stay": 1, "norel": 0}


def ppc64_items():
    """(name, bytes, facts) for every layout, byte order and __run_at_load value."""
    layouts = {
        "plain_branch": (None, 0),
        "fixup_endian_short": (ppc64_head.SKIP_SHORT, 8),
        "fixup_endian_long": (ppc64_head.SKIP_LONG, 10),
    }
    for layout, (skip, words) in layouts.items():
        endians = ("big",) if skip is None else ("big", "little")
        for endian, run in itertools.product(endians, RUN_AT_LOAD):
            head = _ppc64_head(endian, skip, words, RUN_AT_LOAD[run])
            name = f"ppc64/{layout}-{'be' if endian == 'big' else 'le'}-{run}.head"
            facts = {
                "arch": "ppc64", "endianness": endian, "page_size": None,
                "relocatable": run != "norel",
                "run_at_load": "run0" if run == "run0" else RUN_AT_LOAD[run],
                "layout": layout,
            }
            yield name, head, facts
    # A legacy iSeries kernel (2.6.2x, plain branch) with hvReleaseData's address at 0x20.
    head = bytearray(_ppc64_head("big", None, 0, 0))
    head[0x20:0x28] = struct.pack(">Q", 0x4000)
    yield ("ppc64/plain_branch-be-iseries.head", bytes(head),
           {"arch": "ppc64", "endianness": "big", "page_size": None, "relocatable": False,
            "run_at_load": 0, "layout": "plain_branch"})
    # ELF-wrapped heads: the head is the start of the first PT_LOAD.
    for endian in ("big", "little"):
        head = _ppc64_head(endian, ppc64_head.SKIP_LONG, 10, ppc64_head.RUN0)
        yield (f"ppc64/vmlinux-fixup_endian_long-{'be' if endian == 'big' else 'le'}-run0.elf",
               _elf64(head, endian, machine=EM_PPC64),
               {"arch": "ppc64", "endianness": endian, "page_size": None, "relocatable": True,
                "run_at_load": "run0", "layout": "fixup_endian_long"})


def _ppc64_head(endian: str, skip: int | None, words: int, run_at_load: int) -> bytes:
    fixup = None
    if skip is not None:
        fixup = {"tdi": ppc64_head.TDI_FIXUP, "skip_branch": skip,
                 "trampoline": _trampoline(words, endian)}
    main_offset = 0 if fixup is None else 8 + 4 * words
    main_target = 0xCC54 + 0x30  # a 6.1 tinyconfig kernel's branch target
    secondary = bytes(0xA0)
    if fixup is not None:
        order = ">" if endian == "big" else "<"
        secondary = struct.pack(order + "II", ppc64_head.TDI_FIXUP, skip) + bytes(0x98)
    return ppc64_head.build({"is_le": endian == "little", "body": {
        "fixup_endian": fixup,
        "main_branch": 0x48000000 | (main_target - main_offset),
        "trap": ppc64_head.TRAP,
        "secondary_hold_spinloop": 0,
        "secondary_hold_acknowledge": 0,
        "low_fill": bytes(ppc64_head.RUN_AT_LOAD_OFFSET - main_offset - 0x18),
        "run_at_load": run_at_load,
        "secondary_hold": secondary,
    }})


def _elf64(payload: bytes, endian: str, machine: int, p_offset: int = 0x1000) -> bytes:
    """A minimal ELF64 ET_EXEC with one PT_LOAD holding ``payload``; a ppc64 vmlinux's
    e_flags name its ELF ABI (1 big-endian, 2 little-endian)."""
    return elf64(payload, endian=endian, machine=machine, p_offset=p_offset,
                 e_flags=1 if endian == "big" else 2)


def items():
    yield from arm64_items()
    yield from ppc64_items()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="fail when the committed corpus differs from a rebuild")
    args = parser.parse_args()
    out = HERE / "synthetic"
    manifest = {"format": "kimage-corpus/1", "images": []}
    stale = []
    for name, data, facts in items():
        path = out / name
        manifest["images"].append({"path": f"synthetic/{name}", "facts": facts})
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    text = json.dumps(manifest, indent=1) + "\n"
    manifest_path = HERE / "synthetic.json"
    if args.check:
        if not manifest_path.is_file() or manifest_path.read_text() != text:
            stale.append("synthetic.json")
        if stale:
            print("stale synthetic corpus: " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    manifest_path.write_text(text)
    print(f"wrote {len(manifest['images'])} images under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
