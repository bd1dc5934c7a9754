"""An rpm header structure, read bounded: the intro (magic, index count ``il``, store
size ``dl``), ``il`` 16-byte index entries (tag, type, offset, count; big-endian) and the
``dl``-byte data store they point into.

rpm refuses a header with more than 65535 entries or a store of 256 MiB or more
(rpm-4.18.0 lib/header_internal.h ``hdrchkTags``/``hdrchkData``), an entry whose type is
unknown, whose offset is misaligned for its type or outside the store, or whose data runs
past it (lib/header.c ``hdrblobVerifyInfo``). kimage reads at most ``MAX_STORE`` bytes of
one store (a kernel package's header is a few hundred KiB) and decodes only the entries
asked for. The same structure, without the magic, is what the rpm database keeps per
package (``parse_blob``).
"""

from __future__ import annotations

import struct

from validator.formats.rpm import (
    BIN,
    CHAR,
    ENTRY_SIZE,
    HEADER_INTRO,
    HEADER_MAGIC,
    I18NSTRING,
    INT8,
    INT16,
    INT32,
    INT64,
    STRING,
    STRING_ARRAY,
)

#: rpm's own bounds (lib/header_internal.h): entries, and the store's size.
RPM_MAX_TAGS = 0xFFFF
RPM_MAX_DATA = 0x0FFFFFFF
#: The largest store kimage reads into memory (a Fedora kernel-core's is ~100 KiB, a
#: kernel-modules' with thousands of files under 1 MiB; Debian's whole arm64 package as
#: one kernel-core, 5154 files: ~1.1 MiB). Read, then copied once: twice this at most.
MAX_STORE = 8 << 20
#: The largest count of one entry decoded (a file list of a big package has ~10^4).
MAX_COUNT = 1 << 20
_ALIGN = {INT16: 2, INT32: 4, INT64: 8}
_WIDTH = {CHAR: 1, INT8: 1, INT16: 2, INT32: 4, INT64: 8, BIN: 1}
_FMT = {INT8: "B", CHAR: "B", INT16: "H", INT32: "I", INT64: "Q"}


class HeaderError(Exception):
    """The header is malformed: ``rule`` ("rpm/bad-header" or "rpm/header-limit")."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule, self.message = rule, message


class Header:
    """A parsed header: ``entries`` tag -> (type, offset, count) (the first of a tag),
    ``store`` the data, ``size`` the structure's bytes (intro included, when read from a
    package)."""

    __slots__ = ("entries", "store", "size", "count")

    def __init__(self, entries: dict, store: bytes, size: int, count: int):
        self.entries, self.store, self.size, self.count = entries, store, size, count

    def __contains__(self, tag: int) -> bool:
        return tag in self.entries

    def get(self, tag: int):
        """The entry's value: str (STRING, I18NSTRING: its first), list[str]
        (STRING_ARRAY), list[int] (integers), bytes (BIN); None when absent. Raises
        ``HeaderError`` when its data is malformed."""
        entry = self.entries.get(tag)
        if entry is None:
            return None
        kind, offset, count = entry
        store = self.store
        if kind in (STRING, I18NSTRING, STRING_ARRAY):
            strings = []
            pos = offset
            for _ in range(1 if kind == STRING else count):
                end = store.find(b"\0", pos)
                if end < 0:
                    raise HeaderError("rpm/bad-header", f"tag {tag}: a string runs past the "
                                      f"store")
                strings.append(store[pos:end].decode("utf-8", "replace"))
                pos = end + 1
            return strings if kind == STRING_ARRAY else strings[0]
        width = _WIDTH[kind]
        end = offset + width * count
        if end > len(store):
            raise HeaderError("rpm/bad-header", f"tag {tag}: {count} items of {width} bytes "
                              f"at {offset:#x} run past the {len(store):#x}-byte store")
        if kind == BIN:
            return store[offset:end]
        return list(struct.unpack_from(f">{count}{_FMT[kind]}", store, offset))

    def _typed(self, tag: int, kinds: tuple[int, ...], what: str):
        entry = self.entries.get(tag)
        if entry is None:
            return None
        if entry[0] not in kinds:
            raise HeaderError("rpm/bad-header", f"tag {tag} has type {entry[0]}, not "
                              f"{what}")
        return self.get(tag)

    def string(self, tag: int) -> str | None:
        """A STRING or I18NSTRING entry (its first); None when absent."""
        value = self._typed(tag, (STRING, I18NSTRING, STRING_ARRAY), "a string")
        return value[0] if isinstance(value, list) else value

    def strings(self, tag: int) -> list[str] | None:
        """A STRING_ARRAY entry; None when absent."""
        return self._typed(tag, (STRING_ARRAY,), "a string array")

    def ints(self, tag: int) -> list[int] | None:
        """An integer entry (INT8..INT64, CHAR); None when absent."""
        return self._typed(tag, (CHAR, INT8, INT16, INT32, INT64), "an integer")

    def first(self, tag: int):
        """A single value: the string, or the first integer; None when absent."""
        value = self.get(tag)
        if isinstance(value, list):
            return value[0] if value else None
        return value


def intro(data: bytes, where: str) -> tuple[int, int]:
    """(il, dl) of the 16-byte intro ``data``, checked against rpm's and kimage's
    bounds; raises ``HeaderError``."""
    if len(data) < HEADER_INTRO:
        raise HeaderError("rpm/bad-header", f"{where}: cut short ({len(data)} of the "
                          f"{HEADER_INTRO} bytes of its intro)")
    if data[:3] != HEADER_MAGIC[:3]:
        raise HeaderError("rpm/bad-header", f"{where}: magic {data[:3].hex(' ')}, not "
                          f"8e ad e8")
    if data[3] != HEADER_MAGIC[3]:
        raise HeaderError("rpm/bad-header", f"{where}: header version {data[3]}, not 1")
    il, dl = struct.unpack_from(">II", data, 8)
    check_sizes(il, dl, where)
    return il, dl


def check_sizes(il: int, dl: int, where: str) -> None:
    if il > RPM_MAX_TAGS or dl > RPM_MAX_DATA:
        raise HeaderError("rpm/header-limit", f"{where}: {il} entries, {dl:#x} bytes of "
                          f"data; rpm refuses more than {RPM_MAX_TAGS} entries or "
                          f"{RPM_MAX_DATA:#x} bytes")
    if dl > MAX_STORE:
        raise HeaderError("rpm/header-limit", f"{where}: a {dl:#x}-byte data store, more "
                          f"than the {MAX_STORE:#x} kimage reads of one header")
    if il == 0:
        raise HeaderError("rpm/bad-header", f"{where}: no index entries")


def parse(il: int, dl: int, body: bytes, where: str, size: int) -> Header:
    """The header of ``il`` entries and a ``dl``-byte store, ``body`` holding both."""
    need = il * ENTRY_SIZE + dl
    if len(body) < need:
        raise HeaderError("rpm/bad-header", f"{where}: {il} entries and {dl:#x} bytes of "
                          f"data declared, {len(body):#x} bytes present")
    store = bytes(body[il * ENTRY_SIZE:need])
    entries: dict[int, tuple[int, int, int]] = {}
    for i in range(il):
        tag, kind, offset, count = struct.unpack_from(">IIiI", body, i * ENTRY_SIZE)
        if not CHAR <= kind <= I18NSTRING:
            raise HeaderError("rpm/bad-header", f"{where}: entry {i} (tag {tag}) has type "
                              f"{kind}, not one of rpm's 1..9")
        if offset < 0 or offset >= dl and not (offset == dl and count == 0):
            raise HeaderError("rpm/bad-header", f"{where}: entry {i} (tag {tag}) points "
                              f"at {offset:#x}, outside the {dl:#x}-byte store")
        if offset % _ALIGN.get(kind, 1):
            raise HeaderError("rpm/bad-header", f"{where}: entry {i} (tag {tag}): offset "
                              f"{offset:#x} is not aligned for its type {kind}")
        if count == 0 or (count > MAX_COUNT and kind != BIN):  # BIN: bytes, in the store
            raise HeaderError("rpm/bad-header" if count == 0 else "rpm/header-limit",
                              f"{where}: entry {i} (tag {tag}) counts {count} items")
        width = _WIDTH.get(kind)
        if width is not None and offset + width * count > dl:
            raise HeaderError("rpm/bad-header", f"{where}: entry {i} (tag {tag}): "
                              f"{count} items at {offset:#x} run past the store")
        entries.setdefault(tag, (kind, offset, count))
    return Header(entries, store, size, il)


def read(view, offset: int, where: str) -> Header:
    """The header structure at ``offset`` of ``view`` (magic first)."""
    from validator.io.views import read_all

    il, dl = intro(view.read(offset, HEADER_INTRO), where)
    need = il * ENTRY_SIZE + dl
    body = read_all(view, offset + HEADER_INTRO, need)
    return parse(il, dl, body, where, HEADER_INTRO + need)


def parse_blob(blob: bytes, where: str = "rpm database header") -> Header:
    """A header as the rpm database keeps it (``headerExport``: il, dl, entries, store;
    no magic)."""
    if len(blob) < 8:
        raise HeaderError("rpm/bad-header", f"{where}: {len(blob)} bytes")
    il, dl = struct.unpack_from(">II", blob, 0)
    check_sizes(il, dl, where)
    return parse(il, dl, memoryview(blob)[8:], where, len(blob))
