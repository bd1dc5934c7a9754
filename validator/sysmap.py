"""Kernel symbols: a ``System.map`` (``nm`` output) or the ``.symtab`` of a vmlinux ELF.

Read as a stream with bounds, keeping only the few symbols the rules use (``WANTED``),
so memory stays flat whatever the file's size: a System.map a megabyte at a time, each
read's lines parsed by one regular expression (``_LINE``; validator/textlines.py; at most
``MAX_SIZE`` bytes, ``MAX_LINE`` a line); a vmlinux with pyelftools, once its section
headers, symbol and string tables are known to lie inside the file (each table at most
``MAX_TABLE``; pyelftools reads them entry by entry from the file).
A file that is no symbol map at all — a FIFO or device, binary data, neither an
``address type name`` line nor a comment, an ELF without a symbol table — is refused with
one line (``SymbolsError``); a placeholder (Debian's one-line stub, or comments only) is
read as a map without symbols.
"""

from __future__ import annotations

import os
import re

#: One line, in the groups ``_text`` reads by number (``lastindex``): 4 a symbol line
#: "address type name" (address 1, name 3, 4 what follows the name), 5 a comment (after
#: blanks), 6 anything else but a blank line (rstripped). Blank lines do not match: the
#: search passes them without a step in Python.
_LINE = re.compile(
    r"^(?:([0-9a-fA-F]{1,16})[^\S\n]+([A-Za-z?-])[^\S\n]+(\S+)(.*)"
    r"|([^\S\n]*#.*)"
    r"|([^\S\n]*[^\s#].*?))[^\S\n]*$", re.M)
#: Debian's linux-image packages ship a one-line placeholder System.map.
_STUB = re.compile(r"real System\.map is in", re.IGNORECASE)

#: Symbols the rules use; only these are kept.
WANTED = frozenset({
    "_text", "_stext", "_start", "_end", "_etext", "__run_at_load", "__secondary_hold",
    "__secondary_hold_spinloop", "__secondary_hold_acknowledge", "primary_entry",
    "__start", "_edata", "__bss_start", "__bss_stop",
})

#: Largest System.map read: real ones are 2-10 MB (an allyesconfig build's about 30 MB).
MAX_SIZE = 64 << 20
#: Longest line: a symbol line is ~20 bytes and a name (KSYM_NAME_LEN 512).
MAX_LINE = 4096
#: Most lines: a 64-bit kernel's System.map of MAX_SIZE has fewer (a line is 21 bytes at
#: the least); a file of comment or blank lines past it is refused before its parse takes
#: seconds.
MAX_LINES = 1 << 22
#: Largest ELF symbol or string table read (a distribution vmlinux has ~10 MB of each).
MAX_TABLE = 64 << 20
#: Most section headers read (a vmlinux has about 50; 2^16 before extended numbering).
MAX_SECTIONS = 1 << 20
#: Malformed lines kept to report (``problem_count`` counts them all).
MAX_PROBLEMS = 20



class SymbolMap:
    """The ``WANTED`` symbols found (``symbols``), whether the file is a placeholder
    (``stub``), the first ``MAX_PROBLEMS`` (line number, text) of ``problem_count``
    malformed lines, how many symbol lines (or ELF symbols) were seen (``count``) and how
    many "#" lines (a file of only these is a placeholder, as a stub is). A plain class:
    ``dataclasses`` would import ``inspect`` (39 M instructions)."""

    __slots__ = ("path", "symbols", "stub", "problems", "count", "problem_count", "comments")

    def __init__(self, path: str) -> None:
        self.path = path
        self.symbols: dict[str, int] = {}
        self.stub = False
        self.problems: list[tuple[int, str]] = []
        self.count = 0
        self.problem_count = 0
        self.comments = 0

    def get(self, name: str) -> int | None:
        return self.symbols.get(name)

    def base(self) -> int | None:
        """Address of the image start: _text, else _stext."""
        return self.symbols.get("_text", self.symbols.get("_stext"))

    def _problem(self, number: int, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((number, text[:200]))

    def _text(self, text: str, first: int) -> None:
        """Read the lines of ``text``, the first of them line number ``first``."""
        symbols, count, comments = self.symbols, 0, 0
        at, number = 0, first  # a position in text and its line's number (for problems)
        for m in _LINE.finditer(text):
            kind = m.lastindex
            if kind == 4:
                count += 1
                rest = m[4]
                if rest and not rest.isspace() and _STUB.search(m[0]):
                    self.stub = True
                elif m[3] in WANTED:
                    symbols.setdefault(m[3], int(m[1], 16))
            elif kind == 5:
                comments += 1
            elif kind == 6:
                if len(self.problems) < MAX_PROBLEMS:
                    number += text.count("\n", at, m.start())
                    at = m.start()
                    self._problem(number, m[6])
                else:
                    self.problem_count += 1
        self.count += count
        self.comments += comments


class SymbolsError(Exception):
    """The file cannot be read as a symbol map at all."""


def load(path: str, what: str = "") -> SymbolMap:
    """A System.map or vmlinux ELF; ``what`` names the option in messages (``--system-map``)."""
    from validator.source import InputError, open_regular

    name = f"{what} {path}" if what else str(path)
    try:
        fd, st = open_regular(path, what=what)
    except InputError as exc:
        raise SymbolsError(str(exc)) from None
    try:
        if os.pread(fd, 4, 0) == b"\x7fELF":
            return _from_elf(path, name, fd, st.st_size)
        if st.st_size > MAX_SIZE:
            raise SymbolsError(f"{name}: larger than {MAX_SIZE >> 20} MiB, not a System.map")
        with os.fdopen(os.dup(fd), "rb") as f:
            smap = _from_text(f, path, name)
    except OSError as exc:
        raise SymbolsError(f"{name}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if not smap.count and not smap.comments:
        raise SymbolsError(f"{name}: no 'address type name' line, not a System.map")
    return smap


def _from_text(f, path: str, name: str) -> SymbolMap:
    from validator.textlines import blocks

    smap = SymbolMap(path)
    for first, text in blocks(f, name, "a System.map", SymbolsError, MAX_SIZE, MAX_LINE,
                              max_lines=MAX_LINES):
        if text is None:
            smap._problem(first, f"a line longer than {MAX_LINE} bytes")
        else:
            smap._text(text, first)
    return smap


def from_bytes(data: bytes, name: str) -> SymbolMap:
    """A System.map given as bytes (a package's member), read as ``load`` reads a file."""
    import io

    return _from_text(io.BytesIO(data), name, name)


def parse(text: str, path: str = "<System.map>") -> SymbolMap:
    """A System.map given as text, every line read."""
    smap = SymbolMap(path)
    smap._text(text, 1)
    return smap


# --- a vmlinux's symbol table, read with pyelftools after bounding what it will read ---

def _from_elf(path: str, name: str, fd: int, size: int) -> SymbolMap:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    def fail(why: str) -> SymbolsError:
        return SymbolsError(f"{name}: cannot read the ELF symbol table: {why}")

    smap = SymbolMap(path)
    with os.fdopen(os.dup(fd), "rb") as f:
        try:
            elf = ELFFile(f)
            h = elf.header
            shnum = elf.num_sections()
            if h["e_shoff"] == 0 or shnum == 0:
                raise fail("no section headers (a stripped file?)")
            if shnum > MAX_SECTIONS:
                raise fail(f"{shnum} section headers (more than {MAX_SECTIONS})")
            if h["e_shoff"] + shnum * h["e_shentsize"] > size:
                raise fail(f"{shnum} section headers do not fit in the file")
            tables = []
            for index in range(shnum):
                sh = elf._get_section_header(index)
                if sh["sh_type"] in ("SHT_SYMTAB", "SHT_DYNSYM"):
                    tables.append(index)
            if not tables:
                raise fail("no symbol table (a stripped vmlinux?)")
            tables.sort(key=lambda i: elf._get_section_header(i)["sh_type"] != "SHT_SYMTAB")
            for index in tables:
                section = elf.get_section(index)
                strtab = section["sh_link"]
                if not (0 < strtab < shnum):
                    raise fail(f"sh_link {strtab} names no section")
                for what, sh in (("symbol", section.header),
                                 ("string", elf._get_section_header(strtab))):
                    if sh["sh_size"] > MAX_TABLE:
                        raise fail(f"a {what} table of {sh['sh_size']} bytes (more than "
                                   f"{MAX_TABLE >> 20} MiB)")
                    if sh["sh_offset"] + sh["sh_size"] > size:
                        raise fail(f"the {what} table is outside the file")
                if not isinstance(section, SymbolTableSection) or not section["sh_entsize"]:
                    raise fail(f"section {index} is no symbol table of fixed-size entries")
                for symbol in section.iter_symbols():
                    smap.count += 1
                    if symbol.name in WANTED:
                        smap.symbols.setdefault(symbol.name, symbol["st_value"])
                if smap.symbols:
                    break
        except SymbolsError:
            raise
        except (ELFError, Exception) as exc:  # pyelftools raises construct errors too
            raise fail(str(exc) or type(exc).__name__) from None
    return smap
