"""Part 3, in-process: parse one header and derive its facts, against ``struct.unpack``
of the same bytes, for the construct twin and for the Kaitai-generated parser.

Per header, in microseconds (best of 7 repeats of a timeit loop, and the median):

* ``struct.unpack``: the floor, one call over the header's bytes (arm64: the ten
  ``seq`` fields, flags as one u64; ppc64: the 256 bytes as 64 words).
* ``construct parse + facts``: ``validator.formats`` ``parse``, then the handler's facts.
* ``kaitai parse + facts``: the generated parser from ``validator._kaitai``, then the same
  facts (both parsers give the same attribute names; tests/test_kaitai_differential.py).
* ``handler decode``: what kimage runs per image: the handler's ``decode`` on an
  in-memory view (parse, header, fields with meanings, facts).

The floor is a single C call of a fraction of a microsecond, so the time ratios swing
with the machine (0.13 to 0.33 µs for the same call, run to run). With valgrind there,
each case also runs N and 2N times in a fresh interpreter under callgrind; the
difference over N is its instruction count per call (start-up and first-call costs
cancel), and those ratios are the same on every run.
"""

from __future__ import annotations

import re
import shutil
import statistics
import struct
import subprocess
import sys
import timeit

from bench.common import CHILD_ENV, ROOT

VALGRIND = shutil.which("valgrind")
CALLS = 10000
#: a fixed hash seed: start-up then executes the same instructions in both runs
ICOUNT_ENV = dict(CHILD_ENV, PYTHONHASHSEED="0")

ARM64 = ROOT / "corpus/synthetic/arm64/v5.8-4k-le-anywhere-efi.img"
PPC64 = ROOT / "corpus/synthetic/ppc64/fixup_endian_long-le-run0.head"


class BytesView:
    """An in-memory view with the interface the handlers read through."""

    transformed = False
    base = 0
    source = None

    def __init__(self, data: bytes):
        self.data = data
        self.length = len(data)

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            return b""
        return self.data[offset:offset + length]


def _time(func, number: int) -> dict:
    runs = timeit.repeat(func, number=number, repeat=7)
    per = sorted(r / number * 1e6 for r in runs)
    return {"best_us": round(per[0], 3), "median_us": round(statistics.median(per), 3)}


def _calibrate(func) -> int:
    """Loop count for a run of about 20 ms."""
    number = 1
    while True:
        t = timeit.timeit(func, number=number)
        if t > 0.02 or number >= 1 << 20:
            return number
        number *= 2


def cases():
    from kaitaistruct import BytesIO, KaitaiStream

    from validator._kaitai.arm64_image import Arm64Image
    from validator._kaitai.ppc64_head import Ppc64Head
    from validator.formats import arm64_image, ppc64_head
    from validator.formats.arm64_image import decoder as arm64_handler
    from validator.formats.ppc64_head import decoder as ppc64_handler

    a = ARM64.read_bytes()[:64]
    p = PPC64.read_bytes()[:256]
    pfmt = "<64I" if ppc64_head.endian_of(p) == "little" else ">64I"
    av, pv = BytesView(a), BytesView(p)
    return {
        "arm64-image": {
            "struct.unpack": lambda: struct.unpack("<IIQQQQQQ4sI", a),
            "construct parse + facts":
                lambda: arm64_handler.facts_of(arm64_image.parse(a)),
            "kaitai parse + facts":
                lambda: arm64_handler.facts_of(Arm64Image(KaitaiStream(BytesIO(a)))),
            "handler decode": lambda: arm64_handler.decode(av),
        },
        "ppc64-head": {
            "struct.unpack": lambda: struct.unpack(pfmt, p),
            "construct parse + facts":
                lambda: ppc64_handler.facts_of(ppc64_head.parse(p)),
            "kaitai parse + facts":
                lambda: ppc64_handler.facts_of(Ppc64Head(KaitaiStream(BytesIO(p)))),
            "handler decode": lambda: ppc64_handler.decode(pv),
        },
    }


def _run_calls(fmt: str, name: str, n: int) -> int | None:
    code = ("import sys; from bench.inprocess import cases; "
            f"f = cases()[{fmt!r}][{name!r}]\nfor _ in range({n}): f()")
    proc = subprocess.run([VALGRIND, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env=ICOUNT_ENV)
    m = re.search(r"Collected : (\d+)", proc.stderr)
    return int(m.group(1)) if m else None


def instructions_per_call(fmt: str, name: str, calls: int = CALLS) -> int | None:
    """Instructions one call of the case executes (callgrind; None without valgrind)."""
    if VALGRIND is None:
        return None
    twice, once = _run_calls(fmt, name, 2 * calls), _run_calls(fmt, name, calls)
    if twice is None or once is None:
        return None
    return round((twice - once) / calls)


def measure() -> dict:
    out = {}
    for fmt, funcs in cases().items():
        rows = {name: _time(f, _calibrate(f)) for name, f in funcs.items()}
        floor = rows["struct.unpack"]["best_us"]
        for row in rows.values():
            row["x_struct"] = round(row["best_us"] / floor, 1)
        for name, row in rows.items():
            # as many calls as the floor's CALLS take time (at least 1000): the slope is
            # exact from there on, and valgrind is slow
            calls = max(1000, min(CALLS, round(CALLS * floor / row["best_us"])))
            row["instructions"] = instructions_per_call(fmt, name, calls)
        floor_i = rows["struct.unpack"]["instructions"]
        if floor_i:
            for row in rows.values():
                row["x_struct_instructions"] = round(row["instructions"] / floor_i, 1)
        out[fmt] = rows
    return {"target_x_struct": 20, "headers": out}
