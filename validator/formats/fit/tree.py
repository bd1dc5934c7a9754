"""A devicetree blob's node tree, read with the parser generated from ``specs/fdt.ksy``.

The spec gives the header and one structure-block token at a time; this module follows
them in order (BEGIN_NODE opens a node, PROP adds a property, END_NODE closes it, END
stops) into ``Node``s whose properties are (offset, length) of their values in the blob:
no value is read here. Bounded: ``MAX_TOKENS`` tokens, ``MAX_DEPTH`` nested nodes, every
token inside the structure block the header declares.
"""

from __future__ import annotations

from validator.formats.fit import MAX_DEPTH, MAX_SMALL_VALUE, MAX_TOKENS


class Malformed(Exception):
    """The blob does not parse as a devicetree; the message says where."""


class Node:
    __slots__ = ("name", "props", "children")

    def __init__(self, name: str) -> None:
        self.name = name
        self.props: dict[str, tuple[int, int]] = {}  # name -> (value offset, length)
        self.children: dict[str, Node] = {}

    def child(self, name: str) -> Node | None:
        return self.children.get(name)


class Tree:
    """The header fields kimage reports and the root node, over ``view``."""

    def __init__(self, view, header: dict, root: Node) -> None:
        self.view, self.header, self.root = view, header, root

    def value(self, node: Node, name: str, limit: int = MAX_SMALL_VALUE) -> bytes | None:
        """A property's value (at most ``limit`` bytes of it), or None when absent."""
        where = node.props.get(name)
        if where is None:
            return None
        return self.view.read(where[0], min(where[1], limit))

    def text(self, node: Node, name: str) -> str | None:
        """A string property (the first string of a string list)."""
        raw = self.value(node, name)
        return None if raw is None else raw.split(b"\0", 1)[0].decode("utf-8", "replace")

    def number(self, node: Node, name: str) -> int | None:
        """A u32 or u64 property (one or two cells), else None."""
        raw = self.value(node, name)
        if raw is None or len(raw) not in (4, 8):
            return None
        return int.from_bytes(raw, "big")


def read(view) -> Tree:
    """The tree of the blob at the start of ``view``; ``Malformed`` when it does not parse."""
    from kaitaistruct import KaitaiStream

    from validator._kaitai.fdt import Fdt
    from validator.io.views import ViewFile

    try:
        fdt = Fdt(KaitaiStream(ViewFile(view)))
        header = {"totalsize": fdt.totalsize, "version": fdt.version,
                  "min_compatible_version": fdt.min_compatible_version,
                  "ofs_structure_block": fdt.ofs_structure_block,
                  "len_structure_block": fdt.len_structure_block,
                  "ofs_strings_block": fdt.ofs_strings_block,
                  "len_strings_block": fdt.len_strings_block}
        end = fdt.ofs_structure_block + fdt.len_structure_block
        root = _walk(fdt.first_token, end)
    except Malformed:
        raise
    except RecursionError:
        raise Malformed("the structure block does not parse") from None
    except Exception as exc:  # a failed contents check, a short read, a bad name
        raise Malformed(f"{type(exc).__name__}: {exc}") from None
    return Tree(view, header, root)


def _walk(token, end: int) -> Node:
    from validator._kaitai.fdt import Fdt

    codes = Fdt.TokenCode
    stack: list[Node] = []
    root: Node | None = None
    for _ in range(MAX_TOKENS):
        if token.at + 4 > end or token.ofs_next > end:
            raise Malformed(f"token at {token.at:#x} runs past the structure block's end "
                            f"{end:#x}")
        code = token.code
        if code == codes.begin_node:
            node = Node(token.body.name)
            if stack:
                stack[-1].children.setdefault(node.name, node)
            elif root is None:
                root = node
            else:
                raise Malformed(f"a second root node at {token.at:#x}")
            stack.append(node)
            if len(stack) > MAX_DEPTH:
                raise Malformed(f"nodes nested deeper than {MAX_DEPTH} at {token.at:#x}")
        elif code == codes.end_node:
            if not stack:
                raise Malformed(f"END_NODE without a node at {token.at:#x}")
            stack.pop()
        elif code == codes.prop:
            if not stack:
                raise Malformed(f"a property outside any node at {token.at:#x}")
            stack[-1].props.setdefault(token.body.name, (token.body.ofs_value,
                                                         token.body.len_value))
        elif code == codes.end:
            if stack or root is None:
                raise Malformed(f"END at {token.at:#x} with {len(stack)} node(s) open")
            return root
        elif code != codes.nop:
            raise Malformed(f"unknown token {int(code):#x} at {token.at:#x}")
        token = token.next
    raise Malformed(f"more than {MAX_TOKENS} tokens")
