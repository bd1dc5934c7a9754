"""The generated Kaitai parsers and the construct twins agree on every input.

Both parse the same bytes; they must reject the same inputs and, on the others,
give the same value for every field and instance of the spec.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from validator import strategies as ks
from validator.differential import arm64_agree, ppc64_agree, riscv64_agree


def _mutated(base: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Valid bytes with one byte changed, or cut short."""
    @st.composite
    def draw(draw_):
        data = bytearray(draw_(base))
        how = draw_(st.sampled_from(["byte", "cut", "none"]))
        if how == "byte":
            i = draw_(st.integers(0, len(data) - 1))
            data[i] = draw_(st.integers(0, 255))
        elif how == "cut":
            data = data[: draw_(st.integers(0, len(data) - 1))]
        return bytes(data)
    return draw()


@settings(max_examples=400)
@given(st.binary(min_size=0, max_size=80)
       | st.binary(min_size=56, max_size=56).map(lambda b: b + b"ARMd" + b"\0\0\0\0")
       | _mutated(ks.arm64_header_bytes(any_values=True)))
def test_arm64_parsers_agree(data):
    arm64_agree(data)


@settings(max_examples=400)
@given(st.binary(min_size=0, max_size=300) | _mutated(ks.ppc64_head_bytes()))
def test_ppc64_parsers_agree(data):
    ppc64_agree(data)


def _riscv64_headers() -> st.SearchStrategy[bytes]:
    from validator import seedcorpus

    return st.integers(0, 2**16).map(lambda seed: seedcorpus.generate(
        "riscv64-image", seedcorpus.RandomChooser(seed), valid=True).data[:64])


@settings(max_examples=400)
@given(st.binary(min_size=0, max_size=80)
       | st.binary(min_size=56, max_size=56).map(lambda b: b + b"RSC\x05" + b"\0\0\0\0")
       | _mutated(_riscv64_headers()))
def test_riscv64_parsers_agree(data):
    riscv64_agree(data)


def test_corpus_headers_agree():
    from tests.conftest import CORPUS
    for path in sorted((CORPUS / "synthetic").rglob("*")):
        if path.suffix == ".img":
            arm64_agree(path.read_bytes())
        elif path.suffix == ".head":
            ppc64_agree(path.read_bytes())
