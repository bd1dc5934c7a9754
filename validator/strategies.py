"""Hypothesis strategies for kernel image headers (public API).

Each strategy draws the spec's sequence fields as a mapping that the construct twin
builds into bytes::

    from hypothesis import given
    from validator import strategies as ks
    from validator.formats.arm64_image import twin as arm64_image

    @given(ks.arm64_headers())
    def test_my_loader(header):
        image = arm64_image.build(header)
        ...

Beyond single headers, whole files: valid images of every era and wrapper (``images``)
and near-valid ones paired with the finding kimage must report (``near_valid``)::

    @given(ks.near_valid("arm64-image"))
    def test_my_loader_rejects(sample):
        # sample.data: the file; sample.mutation: "image-size-zero", ...;
        # sample.expect: ("arm64/image-size-zero",)
        ...

The file builders live in ``validator.seedcorpus`` (no Hypothesis there); ``kimage fuzz``
drives the same builders from a seeded ``random.Random``. Importing this module imports
hypothesis; nothing on kimage's check path imports it.
"""

from __future__ import annotations

from hypothesis import strategies as st

from validator import seedcorpus
from validator.formats.arm64_image import twin as arm64_image
from validator.formats.ppc64_head import twin as ppc64_head
from validator.seedcorpus import ARM64_ERAS, PPC64_ERAS, Sample

__all__ = [
    "ARM64_ERAS",
    "PPC64_ERAS",
    "Sample",
    "arm64_flags",
    "arm64_header_bytes",
    "arm64_headers",
    "from_builder",
    "images",
    "mutated",
    "near_valid",
    "ppc64_head_bytes",
    "ppc64_heads",
    "samples",
]

_U32 = st.integers(0, 2**32 - 1)
_U64 = st.integers(0, 2**64 - 1)


def arm64_flags(reserved: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[dict]:
    """The flags word's fields; reserved bits are zero unless a strategy is given."""
    return st.fixed_dictionaries({
        "be": st.booleans(),
        "page_size": st.sampled_from(list(arm64_image.PageSize)).map(int),
        "phys_base": st.booleans(),
        "reserved": reserved if reserved is not None else st.just(0),
    })


class _Draw:
    """A ``seedcorpus.Chooser`` that draws from Hypothesis (so examples shrink)."""

    def __init__(self, draw):
        self._draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self._draw(st.integers(lo, hi))

    def choice(self, options):
        return self._draw(st.sampled_from(options))

    def boolean(self) -> bool:
        return self._draw(st.booleans())

    def binary(self, size: int) -> bytes:
        return self._draw(st.binary(min_size=size, max_size=size))


@st.composite
def from_builder(draw, build):
    """``build(chooser)`` with a ``seedcorpus.Chooser`` backed by this example's draws:
    any builder of ``validator.seedcorpus`` becomes a shrinkable strategy, e.g.
    ``from_builder(lambda c: seedcorpus.arm64_params(c, "4.6"))``."""
    return build(_Draw(draw))


def arm64_headers(*, any_values: bool = False,
                  era: str | None = None) -> st.SearchStrategy[dict]:
    """arm64 Image headers with the magic.

    By default the values are the ones real kernels have (text_offset 0 or 0x80000,
    image_size a multiple of 64 KiB, reserved fields zero, pe_offset 0x40 with "MZ");
    ``any_values=True`` draws every field over its whole range. ``era`` ("3.12", "3.17",
    "4.6", "5.8"; ``"any"`` for one of them) draws headers as that era's kernels write
    them: 3.12 with image_size 0 and text_offset in kernel byte order, 3.17 with only the
    endianness flag, 4.6 with page size and placement at text_offset 0x80000, 5.8 at 0.
    """
    if era is not None:
        if era != "any" and era not in ARM64_ERAS:
            raise ValueError(f"era must be one of {', '.join(ARM64_ERAS)} or 'any'")
        return from_builder(lambda c: seedcorpus.arm64_header(
            seedcorpus.arm64_params(c, None if era == "any" else era)))
    if any_values:
        return st.fixed_dictionaries({
            "code0": _U32, "code1": _U32, "text_offset": _U64, "image_size": _U64,
            "flags": arm64_flags(st.integers(0, 2**60 - 1)),
            "res2": _U64, "res3": _U64, "res4": _U64, "pe_offset": _U32,
        })

    def realistic(efi: bool, flags: dict, text_offset: int, pages: int, branch: int) -> dict:
        return {
            "code0": 0xFA405A4D if efi else 0xD503201F,
            "code1": 0x14000000 | branch,
            "text_offset": text_offset,
            "image_size": pages * 0x10000,
            "flags": flags,
            "res2": 0, "res3": 0, "res4": 0,
            "pe_offset": 0x40 if efi else 0,
        }

    return st.builds(realistic, st.booleans(), arm64_flags(), st.sampled_from([0, 0x80000]),
                     st.integers(1, 0x4000), st.integers(1, 0x01FFFFFF))


def arm64_header_bytes(**kwargs) -> st.SearchStrategy[bytes]:
    """The 64 bytes of ``arm64_headers(**kwargs)``."""
    return arm64_headers(**kwargs).map(arm64_image.build)


def _branch(min_target: int = 0x100) -> st.SearchStrategy[int]:
    # b with a positive displacement past the head, as head_64.S has.
    return st.integers(min_target // 4, 0x00FFFFFF).map(lambda w: 0x48000000 | (w << 2))


def ppc64_heads(layout: ppc64_head.Layout | None = None,
                endian: str | None = None, era: str | None = None) -> st.SearchStrategy[dict]:
    """ppc64 heads of every layout and byte order, as ``ppc64_head.build`` takes them.

    Little-endian heads always have FIXUP_ENDIAN, as real ones do. The mapping is
    ``{"is_le": bool, "body": {...}}`` as in the spec.

    ``era`` (``PPC64_ERAS``: "A" up to 2.6.26, "B" 2.6.27 with ``__kdump_flag``, "C"
    2.6.28-3.12 with ``__run_at_load``, "D" and "E" with the short and long FIXUP_ENDIAN,
    "book3e"; ``"any"`` for one of them) draws heads as that era's kernels have them:
    iSeries pointer (A, C) and kdump flag (B) included, real ``__run_at_load`` values and
    a secondary entry that starts the way the era's does. ``layout`` is then ignored.
    """
    if era is not None:
        if era != "any" and era not in PPC64_ERAS:
            raise ValueError(f"era must be one of {', '.join(PPC64_ERAS)} or 'any'")
        if endian == "little" and era in ("A", "B", "C", "book3e"):
            raise ValueError(f"era {era} kernels are big-endian")
        eras = [e for e in PPC64_ERAS if endian != "little" or e in ("D", "E")]
        return from_builder(lambda c: seedcorpus.ppc64_body(seedcorpus.ppc64_params(
            c, c.choice(eras) if era == "any" else era, endian=endian)))
    layouts = [layout] if layout is not None else list(ppc64_head.Layout)

    @st.composite
    def draw(draw_) -> dict:
        lay = draw_(st.sampled_from(layouts))
        if lay == ppc64_head.Layout.plain_branch:
            order = "big"
        else:
            order = endian or draw_(st.sampled_from(["big", "little"]))
        if lay == ppc64_head.Layout.plain_branch:
            fixup = None
            main_offset = 0
        else:
            skip = (ppc64_head.SKIP_LONG if lay == ppc64_head.Layout.fixup_endian_long
                    else ppc64_head.SKIP_SHORT)
            size = (skip & 0xFFFC) - 4
            trampoline = draw_(st.binary(min_size=size, max_size=size))
            fixup = {"tdi": ppc64_head.TDI_FIXUP, "skip_branch": skip, "trampoline": trampoline}
            main_offset = 8 + len(trampoline)
        fill_size = ppc64_head.RUN_AT_LOAD_OFFSET - main_offset - 0x18
        return {"is_le": order == "little", "body": {
            "fixup_endian": fixup,
            "main_branch": draw_(_branch()),
            "trap": ppc64_head.TRAP,
            "secondary_hold_spinloop": draw_(st.sampled_from([0, 0]) | _U64),
            "secondary_hold_acknowledge": draw_(st.sampled_from([0, 0]) | _U64),
            "low_fill": draw_(st.just(bytes(fill_size))
                              | st.binary(min_size=fill_size, max_size=fill_size)),
            "run_at_load": draw_(st.sampled_from([0, 1, ppc64_head.RUN0]) | _U32),
            "secondary_hold": draw_(st.binary(min_size=0xA0, max_size=0xA0)),
        }}

    return draw()


def ppc64_head_bytes(**kwargs) -> st.SearchStrategy[bytes]:
    """The 256 bytes of ``ppc64_heads(**kwargs)``."""
    return ppc64_heads(**kwargs).map(ppc64_head.build)


def _kinds(kind: str | None) -> list[str]:
    available = seedcorpus.available_kinds()
    if kind is None:
        return list(available)
    if kind in seedcorpus.ALIASES:
        return [k for k in seedcorpus.ALIASES[kind] if k in available]
    if kind not in seedcorpus.KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of "
                         f"{', '.join([*seedcorpus.KINDS, *seedcorpus.ALIASES])}")
    return [kind]


def images(kind: str | None = None) -> st.SearchStrategy[Sample]:
    """Valid image files (``seedcorpus.Sample``: ``.data``, ``.kind``, ``.expect``).

    ``kind`` is one of ``seedcorpus.KINDS``: "arm64-image" (every era and flag
    combination), "ppc64-head" (every era and byte order), "ppc64-elf" and "arm64-elf"
    (vmlinux), "efi-stub" (an Image with its PE/COFF header), "zboot" (vmlinuz.efi),
    "gzip", "xz", "lzma", "bzip2", "zstd", "lz4" (the kernel's legacy frame),
    "lz4-frame", "uimage", "android-boot"; "elf" for either ELF; None for any. ``expect``
    lists what kimage reports for a valid image of that era (e.g. ``arm64/image-size-zero``
    for 3.12), nothing worse.
    """
    kinds = _kinds(kind)
    return from_builder(lambda c: seedcorpus.generate(c.choice(kinds), c, valid=True))


def near_valid(kind: str | None = None,
               mutation: str | None = None) -> st.SearchStrategy[Sample]:
    """Near-valid image files: one field off, one size lying or one byte of magic wrong.

    ``sample.mutation`` names the change (``seedcorpus.mutations(kind)`` lists them) and
    ``sample.expect`` the rule IDs kimage reports for it, e.g. ``("arm64/bad-magic",)``.
    """
    kinds = _kinds(kind)
    if mutation is not None and len(kinds) != 1:
        raise ValueError("a mutation is named per kind: give one kind")

    def build(c) -> Sample:
        k = c.choice(kinds)
        if mutation is not None:
            return seedcorpus.generate(k, c, mutation=mutation)
        return seedcorpus.generate(k, c, mutation=c.choice(seedcorpus.mutations(k)))

    return from_builder(build)


def samples(kind: str | None = None) -> st.SearchStrategy[Sample]:
    """Valid or near-valid files (``images`` | ``near_valid``)."""
    return images(kind) | near_valid(kind)


def mutated(base: st.SearchStrategy[bytes] | None = None) -> st.SearchStrategy[bytes]:
    """Bytes of ``base`` (default: the files of ``samples()``) after 1-8 AFL-style byte
    mutations aimed at header fields: for robustness tests of parsers of these formats."""
    base = base if base is not None else samples().map(lambda s: s.data)

    @st.composite
    def draw_mutated(draw) -> bytes:
        return seedcorpus.mutate_bytes(_Draw(draw), draw(base))

    return draw_mutated()
