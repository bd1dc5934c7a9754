"""ELF wrapper (``vmlinux``): the header a loader uses starts at the first PT_LOAD.

kexec-tools copies the ppc64 head from ``phdr[0]``'s data and kexec_file_load from
``proghdrs[0].p_offset`` (shared/reference/ppc64.md, section 1); arm64 vmlinux keeps the
Image header at ``_text``, the start of its first PT_LOAD.
"""

from __future__ import annotations

from validator.layers import View
from validator.model import Finding, Layer
from validator.rules.registry import ALL_LOADERS, finding, rule

MAGIC = b"\x7fELF"

MAX_PHNUM = 4096

#: e_machine values kimage knows (ELF gABI / <elf.h>).
MACHINES = {20: "EM_PPC", 21: "EM_PPC64", 183: "EM_AARCH64", 62: "EM_X86_64", 243: "EM_RISCV"}


class ElfUnwrapped:
    __slots__ = ("layer", "view", "machine", "endianness", "findings")

    def __init__(self, layer: Layer, view: View | None, machine: int | None = None,
                 endianness: str | None = None, findings: list[Finding] | None = None) -> None:
        self.layer, self.view, self.machine, self.endianness = layer, view, machine, endianness
        self.findings = [] if findings is None else findings


rule("elf/malformed", "error",
     "the ELF headers cannot be read",
     "kexec-tools and kexec_file_load parse the ELF and program headers before anything else; "
     "a file whose headers are cut short or inconsistent is refused.",
     "Linux 6.1 kernel/kexec_elf.c elf_read_ehdr; kexec-tools kexec/kexec-elf.c",
     ("kexec-tools", "kexec-file"))
rule("elf/no-load-segment", "error",
     "the ELF file has no PT_LOAD segment",
     "Loaders place PT_LOAD segments and take the kernel head from the first one; without "
     "one there is nothing to load.",
     "Linux 6.1 arch/powerpc/kexec/elf_64.c; kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c",
     ("kexec-tools", "kexec-file"))
rule("elf/truncated", "error",
     "the first PT_LOAD extends past the end of the file",
     "A loader copies p_filesz bytes from p_offset; a file that ends early was cut short "
     "in transfer or by a broken build step.",
     "ELF gABI, program header p_offset/p_filesz",
     ("kexec-tools", "kexec-file"))
rule("elf/unsupported-machine", "error",
     "the ELF file is for an architecture kimage does not describe",
     "kimage describes arm64 (EM_AARCH64) and ppc64 (EM_PPC64) kernels; another e_machine "
     "is no kernel of either.",
     "ELF gABI e_machine",
     ALL_LOADERS)


_STRUCTS: dict = {}


def _structs(little: bool, elfclass: int, *advanced):
    """pyelftools' ``ELFStructs`` for this byte order and class (and, with ``advanced``
    = (e_type, e_machine, EI_OSABI), its program header struct too). Building them takes
    longer than parsing a header, so each is built once per process (lint's many ELFs)."""
    key = (little, elfclass, *advanced)
    structs = _STRUCTS.get(key)
    if structs is None:
        from elftools.elf.structs import ELFStructs

        structs = ELFStructs(little_endian=little, elfclass=elfclass)
        structs.create_basic_structs()
        if advanced:
            structs.create_advanced_structs(*advanced)
        if len(_STRUCTS) > 64:  # a fuzzer's stream of odd headers: keep memory bounded
            _STRUCTS.clear()
        _STRUCTS[key] = structs
    return structs


def probe(view: View) -> bool:
    return view.read(0, 4) == MAGIC


def unwrap(view) -> ElfUnwrapped:
    """Describe the ELF file in ``view`` and hand on its first PT_LOAD.

    Only the ELF header and the program headers are read (pyelftools' structs, as its
    ``ELFFile`` would also read the section headers at the end of the file, which for a
    vmlinux inside a compressed archive means decoding all of it).
    """
    ident = view.read(0, 16)
    layer = Layer("elf", view.base if view.base is not None else 0)
    if len(ident) < 16 or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        return ElfUnwrapped(layer, None, findings=[
            finding("elf/malformed", f"ELF identification is invalid or cut short "
                    f"({len(ident)} bytes, class {ident[4:5].hex() or '-'}, data "
                    f"{ident[5:6].hex() or '-'})", offset=0)])
    endianness = "little" if ident[5] == 1 else "big"
    elfclass = 32 if ident[4] == 1 else 64
    layer.details.update({"class": elfclass, "endianness": endianness})
    try:
        structs = _structs(endianness == "little", elfclass)
        ehdr_size = structs.Elf_Ehdr.sizeof()
        raw = view.read(0, ehdr_size)
        if len(raw) < ehdr_size:
            raise ValueError(f"ELF header needs {ehdr_size} bytes, the file has {len(raw)}")
        header = structs.Elf_Ehdr.parse(raw)
        structs = _structs(endianness == "little", elfclass, header.e_type, header.e_machine,
                           header.e_ident.EI_OSABI)
        layer.details.update({
            "machine": header.e_machine,
            "type": header.e_type,
            "entry": header.e_entry,
            "flags": header.e_flags,
        })
        phsize = structs.Elf_Phdr.sizeof()
        if header.e_phnum and header.e_phentsize < phsize:
            raise ValueError(f"e_phentsize {header.e_phentsize} is smaller than a program "
                             f"header ({phsize})")
        if header.e_phnum > MAX_PHNUM:
            raise ValueError(f"e_phnum {header.e_phnum} is beyond any kernel's")
        table = view.read(header.e_phoff, header.e_phnum * header.e_phentsize)
        if len(table) < header.e_phnum * header.e_phentsize:
            raise ValueError(f"{header.e_phnum} program headers at {header.e_phoff:#x} run "
                             f"past the end of the file")
        loads = []
        for i in range(header.e_phnum):
            ph = structs.Elf_Phdr.parse(table[i * header.e_phentsize:][:phsize])
            if ph.p_type == "PT_LOAD":
                loads.append({"offset": ph.p_offset, "vaddr": ph.p_vaddr, "paddr": ph.p_paddr,
                              "filesz": ph.p_filesz, "memsz": ph.p_memsz, "align": ph.p_align})
    except Exception as exc:  # construct errors and the checks above
        return ElfUnwrapped(layer, None, endianness=endianness, findings=[
            finding("elf/malformed", f"ELF headers cannot be read: {type(exc).__name__}: {exc}",
                    offset=0)])
    machine = _machine_number(header.e_machine)
    layer.details["loads"] = loads
    result = ElfUnwrapped(layer, None, machine=machine, endianness=endianness)
    if not loads:
        result.findings.append(finding("elf/no-load-segment",
                                       "the ELF file has no PT_LOAD program header", offset=0))
        return result
    first = loads[0]
    length = view.known_length
    size = first["filesz"]
    if length is not None:  # (a decoded stream of unknown length is read as far as it goes)
        result.findings += truncation(loads, length)
        size = max(0, min(first["filesz"], length - first["offset"]))
    result.view = view.slice(first["offset"], size)
    layer.details["payload_offset"] = first["offset"]
    return result


def truncation(loads: list[dict], length: int) -> list:
    """``elf/truncated`` when the first PT_LOAD does not fit in ``length`` bytes. Called
    again by the pipeline once a decoded stream's length is known."""
    first = loads[0]
    available = length - first["offset"]
    if first["offset"] < length and first["filesz"] <= available:
        return []
    return [finding("elf/truncated",
                    f"first PT_LOAD wants {first['filesz']:#x} bytes at {first['offset']:#x}, "
                    f"the file has {max(available, 0):#x} there", offset=first["offset"])]


def _machine_number(name_or_number) -> int | None:
    if isinstance(name_or_number, int):
        return name_or_number
    for number, name in MACHINES.items():
        if name == name_or_number:
            return number
    return None
