"""ppc64 heads of every era for the seed corpus: valid ones, near-valid ones and field
mutations of a real head. Built through the construct twin."""

from __future__ import annotations

import struct
from collections.abc import Callable

from validator.formats.ppc64_head import twin as ppc64_head
from validator.formats.sampling import Chooser, Sample, splice

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


def _ppc64_parses(head: bytes) -> bool:
    try:
        ppc64_head.parse(head[:0x100])
    except Exception:
        return False
    return len(head) >= 0x100


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


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"ppc64-head": (lambda c, m: _ppc64_raw(c, m), PPC64_MUTATIONS)}


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """Field mutations of a ppc64 head at the start of ``data`` (False: none)."""
    if not _ppc64_parses(data):
        return False
    for name, (expect, fn) in _ppc64_targets(data[:0x100], where).items():
        out[f"ppc64:{name}"] = (expect, splice(data, 0, fn))
    return True
