"""ELF wrapper (``vmlinux``): the header a loader uses starts at the first PT_LOAD.

kexec-tools copies the ppc64 head from ``phdr[0]``'s data and kexec_file_load from
``proghdrs[0].p_offset`` (shared/reference/ppc64.md, section 1); arm64 vmlinux keeps the
Image header at ``_text``, the start of its first PT_LOAD.
"""

from __future__ import annotations

from validator.catalogue import ALL_LOADERS, finding, rule
from validator.formats.elf import MAGIC, PHDR_SIZE, probe  # noqa: F401  (the layer's probe)
from validator.formats.results import kaitai_parse
from validator.io.views import View
from validator.model import Finding, Layer

#: The largest program-header table read, in bytes: Linux's binfmt_elf refuses a table of
#: more than 64 KiB (fs/binfmt_elf.c load_elf_phdrs), 1170 ELF64 or 2048 ELF32 headers; a
#: vmlinux has a handful. kexec-tools and kexec_file_load take e_phnum as it is, up to
#: 65535, and read e_phnum * sizeof(Elf_Phdr) bytes.
MAX_PHDR_TABLE = 64 * 1024
#: e_phnum's escape value (gABI): the real count is in section 0's sh_info. No kernel
#: loader reads it so: kexec-tools and kexec_file_load take 0xffff as 65535 headers.
PN_XNUM = 0xFFFF


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
rule("elf/too-many-program-headers", "error",
     "the program-header table is larger than any loader's bound",
     "Linux's binfmt_elf refuses a program-header table of more than 64 KiB (1170 ELF64 "
     "headers); a vmlinux has a handful. kimage reads no more than that, so that a forged "
     "e_phnum (0xffff, PN_XNUM, which kexec-tools and kexec_file_load take as 65535 headers "
     "and not as a pointer to section 0) cannot make it read megabytes of headers; it does "
     "not vouch for such a file.",
     "Linux fs/binfmt_elf.c load_elf_phdrs; kernel/kexec_elf.c elf_is_ehdr_sane; "
     "kexec-tools kexec/kexec-elf.c build_mem_phdrs; ELF gABI PN_XNUM",
     ())
rule("elf/unsupported-machine", "error",
     "the ELF file is for an architecture kimage does not describe",
     "kimage describes arm64 (EM_AARCH64), ppc64 (EM_PPC64) and riscv (EM_RISCV) vmlinux "
     "ELFs, and names those of other architectures it knows (foreign/not-described); an "
     "e_machine neither of these is no kernel of theirs.",
     "ELF gABI e_machine",
     ALL_LOADERS)


#: sizeof(Elf32_Ehdr), sizeof(Elf64_Ehdr) (ELF gABI; <elf.h>).
EHDR_SIZE = {32: 52, 64: 64}


def _parser():
    from validator._kaitai.elf_header import ElfHeader

    return ElfHeader


def _name(value) -> int | str:
    """An enum value as the report names it: the spec's name upper-cased (``EM_AARCH64``,
    ``ET_EXEC``, the C names), or the number when the spec names no such value."""
    return value.name.upper() if hasattr(value, "name") else value


def unwrap(view) -> ElfUnwrapped:
    """Describe the ELF file in ``view`` and hand on its first PT_LOAD.

    Only the ELF header and the program headers are read, each by the parser generated from
    ``specs/elf_header.ksy`` over bytes read and bounded here (the section headers at the
    end of the file, which for a vmlinux inside a compressed archive means decoding all of
    it, are never read).
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
        ehdr_size = EHDR_SIZE[elfclass]
        raw = view.read(0, ehdr_size)
        if len(raw) < ehdr_size:
            raise ValueError(f"ELF header needs {ehdr_size} bytes, the file has {len(raw)}")
        root, error = kaitai_parse(_parser(), raw)
        if error is not None:
            raise error
        header = root.header
        layer.details.update({
            "machine": _name(header.e_machine),
            "type": _name(header.e_type),
            "entry": header.e_entry,
            "flags": header.e_flags,
        })
        table = _program_headers(view, header, elfclass)
        if isinstance(table, Finding):
            return ElfUnwrapped(layer, None, endianness=endianness, findings=[table])
        loads = _loads(root, table)
    except Exception as exc:  # the parser's errors and the checks above
        return ElfUnwrapped(layer, None, endianness=endianness, findings=[
            finding("elf/malformed", f"ELF headers cannot be read: {type(exc).__name__}: {exc}",
                    offset=0)])
    machine = int(header.e_machine)
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


def _program_headers(view, header, elfclass: int):
    """The program-header table's bytes, read once and bounded (as the loaders bound it),
    or the finding that stops the chain."""
    phnum, phentsize = header.e_phnum, header.e_phentsize
    size = PHDR_SIZE[elfclass]
    if phnum and phentsize != size:
        raise ValueError(f"e_phentsize {phentsize} is not the size of an ELF{elfclass} program "
                         f"header ({size}): kexec-tools ('ELF bad program header size') and "
                         f"kexec_file_load ('Bad program header size') refuse it")
    if phnum * size > MAX_PHDR_TABLE:
        escape = (" (0xffff, PN_XNUM: kexec-tools and kexec_file_load read 65535 headers, not "
                  "section 0's sh_info)") if phnum == PN_XNUM else ""
        return finding("elf/too-many-program-headers",
                       f"e_phnum {phnum}{escape}: a table of {phnum * size:#x} bytes, more than "
                       f"the {MAX_PHDR_TABLE:#x} Linux's binfmt_elf reads; kimage stops here",
                       offset=0x2C if elfclass == 32 else 0x38, field="e_phnum")
    table = view.read(header.e_phoff, phnum * size) if phnum else b""
    if len(table) < phnum * size:
        raise ValueError(f"{phnum} program headers at {header.e_phoff:#x} run past the end "
                         f"of the file")
    return table


def _loads(root, table: bytes) -> list[dict]:
    """The PT_LOAD entries of a program-header table, in order: the spec's
    ``program_header`` over the table's bytes alone (never the rest of the file)."""
    from kaitaistruct import BytesIO, KaitaiStream

    entry = type(root).ProgramHeader
    stream = KaitaiStream(BytesIO(table))
    loads = []
    for _ in range(len(table) // PHDR_SIZE[64 if root.is_64 else 32]):
        ph = entry(stream, root, root)
        if ph.is_load:
            loads.append({"offset": ph.p_offset, "vaddr": ph.p_vaddr, "paddr": ph.p_paddr,
                          "filesz": ph.p_filesz, "memsz": ph.p_memsz, "align": ph.p_align})
    return loads


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

