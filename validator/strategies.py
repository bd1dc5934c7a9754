"""Hypothesis strategies for kernel image headers (public API).

Each strategy draws the spec's sequence fields as a mapping that the construct twin
builds into bytes::

    from hypothesis import given
    from validator import strategies as ks
    from validator.formats import arm64_image

    @given(ks.arm64_headers())
    def test_my_loader(header):
        image = arm64_image.build(header)
        ...

Importing this module imports hypothesis; nothing on kimage's check path imports it.
"""

from __future__ import annotations

from hypothesis import strategies as st

from validator.formats import arm64_image, ppc64_head

__all__ = [
    "arm64_flags",
    "arm64_header_bytes",
    "arm64_headers",
    "ppc64_head_bytes",
    "ppc64_heads",
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


def arm64_headers(*, any_values: bool = False) -> st.SearchStrategy[dict]:
    """arm64 Image headers with the magic.

    By default the values are the ones real kernels have (text_offset 0 or 0x80000,
    image_size a multiple of 64 KiB, reserved fields zero, pe_offset 0x40 with "MZ");
    ``any_values=True`` draws every field over its whole range.
    """
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
                endian: str | None = None) -> st.SearchStrategy[dict]:
    """ppc64 heads of every layout and byte order, as ``ppc64_head.build`` takes them.

    Little-endian heads always have FIXUP_ENDIAN, as real ones do. The mapping is
    ``{"is_le": bool, "body": {...}}`` as in the spec.
    """
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
