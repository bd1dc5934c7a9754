"""ELF (the gABI; a ``vmlinux``): its constants, declared once.

``decoder`` takes the layer off on the check path (the header a loader uses starts at the
first PT_LOAD), ``writer`` builds an ELF around a payload, ``samples`` the ELF kinds of
the seed corpus and their mutations.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "container"

MAGIC = b"\x7fELF"

#: e_machine values kimage knows (ELF gABI / <elf.h>); the report names them as the
#: spec does (specs/elf_header.ksy enum e_machine, upper-cased: EM_AARCH64).
EM_PPC = 20
EM_PPC64 = 21
EM_X86_64 = 62
EM_AARCH64 = 183
EM_RISCV = 243

PT_LOAD = 1
PT_NOTE = 4
#: sizeof(Elf32_Phdr), sizeof(Elf64_Phdr); what both kexec loaders require e_phentsize to be.
PHDR_SIZE = {32: 32, 64: 56}


def probe(view) -> bool:
    """Does ``view`` start with the ELF magic? Declared here, not in ``decoder``: the
    check path asks it of every file, and imports the decoder only for an ELF."""
    return view.read(0, len(MAGIC)) == MAGIC
