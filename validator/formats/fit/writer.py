"""Devicetree blobs for the seed corpus: the layout dtc and mkimage write (header, an
empty memory reservation block, the structure block, the strings block; version 17,
last compatible 16), from nodes given as ``(name, [(property, value bytes)], [children])``.
"""

from __future__ import annotations

import struct

from validator.formats.fit import MAGIC

BEGIN_NODE, END_NODE, PROP, END = 1, 2, 3, 9
HEADER = struct.Struct(">4sIIIIIIIII")
RESERVE_END = bytes(16)  # the reservation block's terminating (0, 0) entry

Node = tuple  # (name: str, props: list[tuple[str, bytes]], children: list[Node])


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


def string(value: str) -> bytes:
    return value.encode() + b"\0"


def u32(value: int) -> bytes:
    return struct.pack(">I", value)


def fdt_bytes(root: Node, *, tail: bytes = b"") -> bytes:
    """The blob of ``root``; ``tail`` is appended after it (mkimage -E puts the external
    data there, each image's at data-offset from the blob's 4-aligned end)."""
    strings: dict[str, int] = {}
    table = bytearray()

    def name_offset(name: str) -> int:
        if name not in strings:
            strings[name] = len(table)
            table.extend(string(name))
        return strings[name]

    body = bytearray()

    def emit(node: Node) -> None:
        name, props, children = node
        body.extend(u32(BEGIN_NODE) + _pad(string(name)))
        for prop, value in props:
            body.extend(u32(PROP) + struct.pack(">II", len(value), name_offset(prop))
                        + _pad(value))
        for child in children:
            emit(child)
        body.extend(u32(END_NODE))

    emit(root)
    body.extend(u32(END))
    ofs_struct = HEADER.size + len(RESERVE_END)
    ofs_strings = ofs_struct + len(body)
    total = ofs_strings + len(table)
    header = HEADER.pack(MAGIC, total, ofs_struct, ofs_strings, HEADER.size, 17, 16, 0,
                         len(table), len(body))
    blob = header + RESERVE_END + bytes(body) + bytes(table)
    return _pad(blob) + tail if tail else blob
