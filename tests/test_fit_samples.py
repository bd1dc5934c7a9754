"""The FIT seed-corpus kind (validator/formats/fit/samples.py) and hostile devicetree
blobs: each near-valid FIT gets exactly the rule its change breaks, a valid one none;
blobs built to exhaust the walk (deep nesting, a flood of NOP tokens, a name without its
NUL, a property longer than the file, a name offset past the strings block, a non-ASCII
name) give one ``fit/malformed`` finding, quickly, never a traceback.

Rules triggered here: layer/fit (every FIT), fit/bad-hash, fit/no-kernel,
fit/not-a-kernel, fit/data-outside-file, fit/compression-mismatch, fit/malformed,
fit/kernel-placement (booting.rst: text_offset above a 2 MiB-aligned base).
Expected rules come from the sample tables and from what U-Boot's bootm refuses
(boot/image-fit.c fit_image_load, fit_image_verify), not from kimage's output.
"""

from __future__ import annotations

import struct
import time

import pytest

from validator import seedcorpus
from validator.checker import Options, check_image
from validator.formats.fit import MAX_DEPTH, MAX_TOKENS
from validator.formats.fit.samples import FIT_MUTATIONS, fit_bytes
from validator.formats.fit.writer import END_NODE, fdt_bytes, string, u32

FIT_RULES = {"fit/bad-hash", "fit/no-kernel", "fit/not-a-kernel", "fit/data-outside-file",
             "fit/compression-mismatch", "fit/malformed", "fit/kernel-placement"}


def rules(data: bytes, tmp_path) -> set[str]:
    path = tmp_path / "sample.itb"
    path.write_bytes(data)
    return {f.rule for f in check_image(path, Options()).findings}


def test_the_table_covers_every_fit_rule():
    assert {r for expect, _ in FIT_MUTATIONS.values() for r in expect} == FIT_RULES


@pytest.mark.parametrize("seed", range(8))
def test_valid_fits_are_quiet(seed, tmp_path):
    sample = seedcorpus.generate("fit", seedcorpus.RandomChooser(f"fit/{seed}"), valid=True)
    found = rules(sample.data, tmp_path)
    assert "layer/fit" in found
    assert not found & FIT_RULES, found


@pytest.mark.parametrize("mutation", sorted(FIT_MUTATIONS))
@pytest.mark.parametrize("seed", range(5))
def test_each_near_valid_fit_gets_its_rule(mutation, seed, tmp_path):
    sample = seedcorpus.generate("fit", seedcorpus.RandomChooser(f"{mutation}/{seed}"),
                                 mutation=mutation)
    found = rules(sample.data, tmp_path)
    assert found & FIT_RULES == set(sample.expect), (mutation, sorted(found))


def _root(children, props=()) -> tuple:
    return ("", list(props), children)


def _hostile():
    deep: tuple = ("leaf", [], [])
    for i in range(MAX_DEPTH + 8):
        deep = (f"n{i}", [], [deep])
    yield "deep", fdt_bytes(_root([deep]))
    blob = bytearray(fdt_bytes(_root([])))
    ofs_struct = struct.unpack_from(">I", blob, 8)[0]
    nops = u32(4) * (MAX_TOKENS + 10)
    flood = blob[:ofs_struct + 8] + nops + blob[ofs_struct + 8:]
    struct.pack_into(">I", flood, 36, struct.unpack_from(">I", blob, 36)[0] + len(nops))
    struct.pack_into(">I", flood, 12, struct.unpack_from(">I", blob, 12)[0] + len(nops))
    struct.pack_into(">I", flood, 4, len(flood))
    yield "nop-flood", bytes(flood)
    noname = bytearray(fdt_bytes(_root([("a" * 8, [], [])])))
    at = noname.find(b"a" * 8)
    noname[at:at + 8 + 4] = b"b" * 12  # the NUL and padding gone, END_NODE overwritten
    yield "name-without-nul", bytes(noname) + b"c" * 4096
    long = bytearray(fdt_bytes(_root([], [("description", string("x"))])))
    struct.pack_into(">I", long, ofs_struct + 8 + 4, 0xFFFFFFF0)
    yield "prop-length", bytes(long)
    far = bytearray(fdt_bytes(_root([], [("description", string("x"))])))
    struct.pack_into(">I", far, ofs_struct + 8 + 8, 0x7FFFFFFF)
    yield "name-offset", bytes(far)
    yield "non-ascii", fdt_bytes(_root([("n\xe9", [], [])]))
    yield "end-inside", fdt_bytes(_root([])).replace(u32(END_NODE), u32(9), 1)


@pytest.mark.parametrize("name,data", list(_hostile()), ids=[n for n, _ in _hostile()])
def test_hostile_blobs_are_one_finding(name, data, tmp_path):
    start = time.monotonic()
    found = rules(data, tmp_path)
    assert time.monotonic() - start < 10, name
    assert "fit/malformed" in found, (name, sorted(found))


def test_a_dtb_is_no_kernel(tmp_path):
    """A plain devicetree blob (no /images) is read as a FIT without a kernel."""
    found = rules(fdt_bytes(_root([("chosen", [], [])], [("model", string("x"))])), tmp_path)
    assert found == {"fit/no-kernel"}


def test_hashes_are_checked_only_when_asked(tmp_path):
    """inspect (no decode_all) reads no data for hashes: ``ok`` stays None."""
    from validator.io.limits import Limits
    from validator.pipeline import analyse

    path = tmp_path / "hash.itb"
    path.write_bytes(fit_bytes(b"\0" * 0x1000, hashes=("sha256",), bad_hash=True))
    hashes = analyse(path, Limits()).layers[0].details["kernel"]["hashes"]
    assert [h["ok"] for h in hashes] == [None]
