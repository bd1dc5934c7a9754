"""Kernel symbols: a ``System.map`` (``nm`` output) or the ``.symtab`` of a vmlinux ELF."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LINE = re.compile(r"^([0-9a-fA-F]{1,16})\s+([A-Za-z?-])\s+(\S+)")
#: Debian's linux-image packages ship a one-line placeholder System.map.
_STUB = re.compile(r"real System\.map is in", re.IGNORECASE)

#: Symbols the rules use; a vmlinux's symbol table is read only for these.
WANTED = frozenset({
    "_text", "_stext", "_end", "_etext", "__run_at_load", "__secondary_hold",
    "__secondary_hold_spinloop", "__secondary_hold_acknowledge", "primary_entry",
    "__start", "_edata", "__bss_start", "__bss_stop",
})

MAX_SIZE = 256 << 20


@dataclass
class SymbolMap:
    path: str
    symbols: dict[str, int] = field(default_factory=dict)
    stub: bool = False
    problems: list[tuple[int, str]] = field(default_factory=list)

    def get(self, name: str) -> int | None:
        return self.symbols.get(name)

    def base(self) -> int | None:
        """Address of the image start: _text, else _stext."""
        return self.symbols.get("_text", self.symbols.get("_stext"))


class SymbolsError(Exception):
    """The file cannot be read as a symbol map at all."""


def load(path: str) -> SymbolMap:
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
            if magic == b"\x7fELF":
                return _from_elf(path, f)
            f.seek(0)
            data = f.read(MAX_SIZE + 1)
    except OSError as exc:
        raise SymbolsError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SIZE:
        raise SymbolsError(f"{path}: larger than {MAX_SIZE >> 20} MiB, not a System.map")
    return parse(data.decode("utf-8", "replace"), path)


def parse(text: str, path: str = "<System.map>") -> SymbolMap:
    smap = SymbolMap(path)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            smap.problems.append((number, line.rstrip()))
            continue
        if _STUB.search(line):
            smap.stub = True
            continue
        address, _type, name = m.groups()
        smap.symbols.setdefault(name, int(address, 16))
    return smap


def _from_elf(path: str, f) -> SymbolMap:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    smap = SymbolMap(path)
    try:
        f.seek(0)
        elf = ELFFile(f)
        for section in elf.iter_sections():
            if not isinstance(section, SymbolTableSection):
                continue
            for symbol in section.iter_symbols():
                if symbol.name in WANTED and symbol.name not in smap.symbols:
                    smap.symbols[symbol.name] = symbol["st_value"]
            if smap.symbols:
                break
    except (ELFError, Exception) as exc:  # pyelftools raises construct errors too
        raise SymbolsError(f"{path}: cannot read the ELF symbol table: {exc}") from None
    return smap
