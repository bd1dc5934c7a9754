"""An ELF around a payload, as a vmlinux is laid out (ELF gABI): the one ELF writer of
the seed corpus, the synthetic corpus and the tests."""

from __future__ import annotations

import struct

from validator.formats.elf import PT_LOAD, PT_NOTE


def elf64(payload: bytes, *, endian: str, machine: int, p_offset: int = 0x1000,
          vaddr: int = 0xC000000000000000, filesz: int | None = None, p_type: int = PT_LOAD,
          note: bool = False, ident_class: int = 2, ident_data: int | None = None,
          phentsize: int = 56, e_flags: int = 0) -> bytes:
    """An ELF64 ET_EXEC whose first program header is a PT_LOAD of ``payload`` (ELF gABI).

    ``filesz`` overrides p_filesz (a lying size); ``note`` adds a PT_NOTE after it, as a
    vmlinux has; ``ident_*``, ``phentsize`` and ``e_flags`` (a ppc64 vmlinux's ELF ABI
    version, 1 or 2) set those header fields."""
    o = ">" if endian == "big" else "<"
    data = ident_data if ident_data is not None else (2 if endian == "big" else 1)
    ident = b"\x7fELF" + bytes([ident_class, data, 1, 0]) + bytes(8)
    phnum = 2 if note else 1
    ehdr = ident + struct.pack(o + "HHIQQQIHHHHHH", 2, machine, 1, vaddr, 64, 0, e_flags,
                               64, phentsize, phnum, 64, 0, 0)
    size = len(payload) if filesz is None else filesz
    phdrs = struct.pack(o + "IIQQQQQQ", p_type, 7, p_offset, vaddr, 0, size, size, 0x10000)
    if note:
        phdrs += struct.pack(o + "IIQQQQQQ", PT_NOTE, 4, p_offset + len(payload), 0, 0, 0, 0,
                             4)
    return (ehdr + phdrs).ljust(p_offset, b"\0") + payload


def elf32(payload: bytes, *, endian: str, machine: int, p_offset: int = 0x1000) -> bytes:
    """An ELFCLASS32 ET_EXEC with one PT_LOAD holding ``payload``."""
    o = ">" if endian == "big" else "<"
    ident = b"\x7fELF" + bytes([1, 2 if endian == "big" else 1, 1, 0]) + bytes(8)
    ehdr = ident + struct.pack(o + "HHIIIIIHHHHHH", 2, machine, 1, 0xC0000000, 52, 0, 0, 52,
                               32, 1, 40, 0, 0)
    phdr = struct.pack(o + "IIIIIIII", PT_LOAD, p_offset, 0xC0000000, 0, len(payload),
                       len(payload), 7, 0x10000)
    return (ehdr + phdr).ljust(p_offset, b"\0") + payload
