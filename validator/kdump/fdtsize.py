"""The running kernel's flattened device tree (/sys/firmware/fdt) as kexec-tools' dtb
segment sizes it: read with the parser generated from ``specs/fdt.ksy`` (its header only:
the sequence is the 40-byte ``fdt_header``, the tree is read lazily and not here)."""

from __future__ import annotations

#: struct fdt_header (Devicetree Specification v0.4, 5.2): ten big-endian u32
FDT_HEADER = 40


def header(head: bytes):
    """The parsed ``fdt_header`` of ``head`` (at least 40 bytes, the FDT magic first), or
    None."""
    if len(head) < FDT_HEADER:
        return None
    import io

    import kaitaistruct

    from validator._kaitai.fdt import Fdt

    try:
        return Fdt(kaitaistruct.KaitaiStream(io.BytesIO(head[:FDT_HEADER])))
    except (kaitaistruct.KaitaiStructError, EOFError, ValueError):
        return None


def fdt_packed(head: bytes) -> int | None:
    """The size libfdt's fdt_pack leaves of a flattened device tree, from its header:
    the header, the memory reservation block (as laid out, an upper bound on its
    entries), the structure and the strings blocks, without the free space between
    or after them. None when the header is short or its blocks do not lie inside
    totalsize."""
    h = header(head)
    if h is None:
        return None
    off_rsv, off_struct = h.ofs_memory_reservation_block, h.ofs_structure_block
    rsv = off_struct - off_rsv
    if not (FDT_HEADER <= off_rsv < off_struct and rsv % 16 == 0
            and off_struct + h.len_structure_block <= h.totalsize
            and h.ofs_strings_block + h.len_strings_block <= h.totalsize):
        return None
    return FDT_HEADER + rsv + h.len_structure_block + h.len_strings_block
