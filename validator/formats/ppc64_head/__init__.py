"""The ppc64 kernel head, the first 256 bytes of _stext (``specs/ppc64_head.ksy``; Linux
arch/powerpc/kernel/head_64.S): its constants, declared once.

``decoder`` decodes it on the check path (the generated Kaitai parser), ``twin`` parses and
builds it (construct), ``rules`` judges its facts, ``samples`` builds heads and their
near-valid mutations for the seed corpus.
"""

from __future__ import annotations

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "header"

FORMAT = "ppc64-head"

HEAD_SIZE = 0x100
RUN_AT_LOAD_OFFSET = 0x5C
SECONDARY_ENTRY_OFFSET = 0x60

TDI_FIXUP = 0x08000048  # tdi 0,0,0x48 in the kernel's byte order
TDI_OTHER_ORDER = 0x48000008  # the same bytes read in the other order: b .+8
SKIP_SHORT = 0x48000024  # 10-word FIXUP_ENDIAN
SKIP_LONG = 0x4800002C  # 12-word FIXUP_ENDIAN
TRAP = 0x7FE00008
RUN0 = 0x72756E30  # "run0"
#: What a head starts with from about 3.13 on (Book3S): FIXUP_ENDIAN's tdi, as a
#: big-endian kernel stores it (a little-endian one stores it byte-reversed). Older heads
#: and Book3E have no magic: a branch and a trap, recognised by parsing.
MAGIC = TDI_FIXUP.to_bytes(4, "big")

#: The ELF e_machine of a ppc64 vmlinux (elf.h EM_PPC64).
from validator.formats.elf import EM_PPC64 as ELF_MACHINE  # noqa: E402,F401

#: Fields of ``body`` read from the bytes, in order (the spec's ``seq``).
BODY_FIELDS = (
    "fixup_endian", "main_branch", "trap", "secondary_hold_spinloop",
    "secondary_hold_acknowledge", "low_fill", "run_at_load", "secondary_hold",
)


#: The package's own modules (never the twin's names).
_PARTS = frozenset({"decoder", "twin", "rules", "samples", "writer"})


def __getattr__(name: str):
    """The construct twin's names (``parse``, ``build``, ...), imported on first use: the
    check path reads only the constants above and never imports construct."""
    if name.startswith("__") or name in _PARTS:
        raise AttributeError(name)  # a submodule not imported yet: the import system's
    from validator.formats.ppc64_head import twin

    return getattr(twin, name)


def is_branch(word: int) -> bool:
    """An unconditional, relative, non-linking ``b`` (I-form, AA=0, LK=0): what the spec's
    main_branch takes."""
    return (word & 0xFC000003) == 0x48000000


def branch_first(view) -> bool:
    """256 bytes or more whose first word, read big-endian, is FIXUP_ENDIAN in either byte
    order or a plain ``b`` (what the spec's main_branch takes): the decoder's ``probe``
    then parses the head."""
    head = view.read(0, 4)
    if len(head) < 4 or len(view.read(HEAD_SIZE - 1, 1)) < 1:
        return False
    word = int.from_bytes(head, "big")
    return word == TDI_FIXUP or is_branch(word)


#: (test or None, decoder probe or None): see validator.formats.header_probes
PROBE = (branch_first, "probe")
