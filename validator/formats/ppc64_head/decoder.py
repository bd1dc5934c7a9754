"""ppc64 head: decode the first 256 bytes of the kernel, say what they mean, derive facts.

The bytes are parsed by the parser generated from ``specs/ppc64_head.ksy``
(``validator._kaitai``): the spec's own code, and a fraction of the construct twin's
import and parse time (bench/). tests/test_kaitai_differential.py holds the two equal.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.ppc64_head import (
    BODY_FIELDS,
    FORMAT,  # noqa: F401 (the decoder names its format)
    HEAD_SIZE,
    RUN0,
    RUN_AT_LOAD_OFFSET,
    SECONDARY_ENTRY_OFFSET,
    TDI_FIXUP,
)
from validator.formats.results import Decoded, kaitai_parse
from validator.io.views import View
from validator.model import Field

#: The ``seq`` fields of the spec's types, to name a field the parser rejects.
_SEQ = {
    "body": BODY_FIELDS,
    "fixup_endian": ("tdi", "skip_branch", "trampoline"),
}

#: What each of the spec's ``layout`` values (its enum ``layout``) says of the kernel.
_LAYOUT_MEANING = {
    "plain_branch": "no FIXUP_ENDIAN: kernels up to 3.12, or Book3E",
    "fixup_endian_short": "10-word FIXUP_ENDIAN (about 3.13 to 4.x)",
    "fixup_endian_long": "12-word FIXUP_ENDIAN (4.x and later, verified 6.1)",
}


rule("ppc64/head-truncated", "error",
     "the ppc64 head is shorter than 256 bytes",
     "kexec-tools and kexec_file_load copy the first 256 bytes of the first PT_LOAD into "
     "purgatory; the kernel copies them to physical 0.",
     "kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c; Linux 6.1 arch/powerpc/kexec/file_load_64.c",
     ("kexec-tools", "kexec-file"))
rule("ppc64/head-unrecognised", "error",
     "the ppc64 ELF's first PT_LOAD does not start with a kernel head",
     "A ppc64 kernel starts with FIXUP_ENDIAN (Book3S since about 3.13) or a branch to the "
     "start-up code followed by a trap; anything else is not a kernel the loaders can start "
     "at offset 0 with secondaries held at 0x60.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S first_256B",
     ("kexec-tools", "kexec-file"))


def probe(view: View) -> bool:
    """A bare head: FIXUP_ENDIAN, or a branch and a trap, that parses as a whole."""
    data = view.read(0, HEAD_SIZE)
    if len(data) < HEAD_SIZE:
        return False
    return _parse(data)[1] is None


def _parse(data: bytes):
    """``kaitai_parse`` of a head; the pipeline probes a head and then decodes it, and
    the second parse of the same 256 bytes is the first's (the parsed object is read,
    never changed)."""
    if _LAST and _LAST[0] == data:
        return _LAST[1]
    parsed = kaitai_parse(_parser(), data)
    _LAST[:] = [bytes(data), parsed]
    return parsed


_LAST: list = []


def _parser():
    from validator._kaitai.ppc64_head import Ppc64Head

    return Ppc64Head


def run_at_load_fact(value: int) -> str | int:
    return "run0" if value == RUN0 else value


def decode(view: View, elf_endianness: str | None = None) -> Decoded:
    data = view.read(0, HEAD_SIZE)
    if len(data) < HEAD_SIZE:
        return Decoded(findings=[finding(
            "ppc64/head-truncated",
            f"the head needs 256 bytes, the first PT_LOAD has {len(data)}", offset=len(data))])
    top, error = _parse(data)
    if error is not None:
        return Decoded(findings=[finding(
            "ppc64/head-unrecognised",
            f"bytes at the start of the first PT_LOAD are not a ppc64 head: "
            f"{data[:8].hex(' ')} ({_reason(error)})", offset=0)])
    h = top.body
    layout = _parser().Layout(h.layout).name
    fe = _fixup_endian(h)
    run_at_load = int(h.run_at_load)
    header = {
        "is_le": top.is_le,
        "has_fixup_endian": top.has_fixup_endian,
        "fixup_endian": None if fe is None else {
            "tdi": fe.tdi,
            "skip_branch": fe.skip_branch,
            "trampoline": fe.trampoline.hex(),
        },
        "main_branch": h.main_branch,
        "trap": h.trap,
        "secondary_hold_spinloop": h.secondary_hold_spinloop,
        "secondary_hold_acknowledge": h.secondary_hold_acknowledge,
        "low_fill": h.low_fill.hex(),
        "run_at_load": run_at_load,
        "secondary_hold": h.secondary_hold.hex(),
        "layout": layout,
        "main_branch_offset": h.main_branch_offset,
        "main_branch_target": h.main_branch_target,
        "kdump_flag": h.kdump_flag,
        "iseries_pointer": h.iseries_pointer,
        "secondary_entry": h.secondary_entry,
    }
    return Decoded(header=header, fields=lambda: _fields(h, top.is_le, layout),
                   facts=facts_of(top, elf_endianness))


def facts_of(top, elf_endianness: str | None = None) -> dict:
    """The facts of a parsed head (a construct twin ``Container`` or the generated Kaitai
    parser's object: both have the spec's names)."""
    h = top.body
    run_at_load = int(h.run_at_load)
    return {
        "arch": "ppc64",
        "endianness": elf_endianness or ("little" if top.is_le else "big"),
        "page_size": None,
        "relocatable": {RUN0: True, 1: True, 0: False}.get(run_at_load),
        "run_at_load": run_at_load_fact(run_at_load),
        "layout": _parser().Layout(h.layout).name,
    }


def _fixup_endian(h):
    """The fixup_endian field, or None (Kaitai leaves a field whose ``if`` fails unset;
    the construct twin sets it to None)."""
    return getattr(h, "fixup_endian", None)


def _reason(exc: Exception) -> str:
    """Which field the spec rejected, as "Error in path (parsing) -> body -> trap"."""
    src = getattr(exc, "src_path", None) or ""
    parts = src.strip("/").split("/")
    names = []
    for kind, name in zip(parts[::2], parts[1::2], strict=False):
        if kind == "types":
            names.append(name)
        elif kind == "seq" and names and name.isdigit() and int(name) < len(_SEQ.get(
                names[-1], ())):
            names.append(_SEQ[names[-1]][int(name)])
    if names:
        return ("Error in path (parsing) -> " + " -> ".join(names))[:120]
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _fields(h, is_le: bool, layout: str) -> list[Field]:
    fields = []
    fe = _fixup_endian(h)
    if fe is not None:
        order = "little" if is_le else "big"
        fields += [
            Field("fixup_endian.tdi", 0x00, 4, fe.tdi, fe.tdi,
                  f"tdi 0,0,0x48: FIXUP_ENDIAN, {order}-endian kernel"),
            Field("fixup_endian.skip_branch", 0x04, 4, fe.skip_branch, fe.skip_branch,
                  f"b .+{fe.skip_branch & 0x03FFFFFC:#x} over the trampoline "
                  f"({_LAYOUT_MEANING[layout]})"),
            Field("fixup_endian.trampoline", 0x08, len(fe.trampoline), None,
                  fe.trampoline.hex(), f"{len(fe.trampoline) // 4} words that flip MSR[LE]"),
        ]
    mb = h.main_branch_offset
    fields += [
        Field("main_branch", mb, 4, h.main_branch, h.main_branch,
              f"b {h.main_branch_target:#x} (__start_initialization_multiplatform)"),
        Field("trap", mb + 4, 4, h.trap, h.trap, "trap: catches a stray branch to 0"),
        Field("secondary_hold_spinloop", mb + 8, 8, h.secondary_hold_spinloop,
              h.secondary_hold_spinloop,
              "zero: secondaries wait" if not h.secondary_hold_spinloop
              else "non-zero in the file: secondaries would not wait"),
        Field("secondary_hold_acknowledge", mb + 0x10, 8, h.secondary_hold_acknowledge,
              h.secondary_hold_acknowledge,
              "zero" if not h.secondary_hold_acknowledge else "non-zero in the file"),
    ]
    if h.kdump_flag is not None:
        fields += [
            Field("kdump_flag", 0x18, 8, h.kdump_flag, h.kdump_flag,
                  "zero (set to 1 by 2.6.27 kdump purgatory)" if not h.kdump_flag
                  else "set: a 2.6.27 kdump kernel as loaded"),
            Field("iseries_pointer", 0x20, 8, h.iseries_pointer, h.iseries_pointer,
                  "zero (no legacy iSeries)" if not h.iseries_pointer
                  else f"hvReleaseData at {h.iseries_pointer:#x} (legacy iSeries)"),
        ]
    fields += [
        Field("run_at_load", RUN_AT_LOAD_OFFSET, 4, int(h.run_at_load),
              run_at_load_fact(int(h.run_at_load)), _run_at_load_meaning(int(h.run_at_load))),
        Field("secondary_entry", SECONDARY_ENTRY_OFFSET, 4, h.secondary_entry,
              h.secondary_entry,
              "tdi 0,0,0x48: FIXUP_ENDIAN at __secondary_hold"
              if h.secondary_entry == TDI_FIXUP else "first instruction of __secondary_hold"),
    ]
    return fields


def _run_at_load_meaning(value: int) -> str:
    if value == RUN0:
        return '"run0": relocatable; relocates to 0 unless a loader writes 1'
    if value == 1:
        return "1: runs where loaded (RELOCATABLE_TEST build, or patched by a kdump loader)"
    if value == 0:
        return "0: not relocatable (no __run_at_load)"
    return f"{value:#010x}: unknown; the kernel treats any value but 1 as relocate to 0"
