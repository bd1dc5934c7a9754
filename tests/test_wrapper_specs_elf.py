"""specs/elf_header.ksy against pyelftools, an independent ELF reader: every field of the
identification, the ELF header and each program header, on the real ppc64 vmlinux files
of the corpus (cross-built and Debian's), on ELF32/ELF64 headers of both byte orders that
pyelftools' own structs build, and on mutated bytes (same accept/reject, same fields).
Also compares kimage's ELF layer decoder (validator/formats/elf/decoder.py, which runs the
generated parser on the check path) with pyelftools."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from elftools.common.exceptions import ELFError
from elftools.construct import ConstructError, Container
from elftools.elf import enums
from elftools.elf.elffile import ELFFile
from elftools.elf.structs import ELFStructs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kaitaistruct import KaitaiStructError

from tests.wrapper_corpus import PPC64_VARIANTS, kernel_file
from validator._kaitai.elf_header import ElfHeader
from validator.formats.elf import decoder as elf_decoder
from validator.io.views import View

P_TYPES = {name: value for table in (getattr(enums, n) for n in dir(enums)
                                     if n.startswith("ENUM_P_TYPE"))
           for name, value in table.items()}
PHDR_FIELDS = ("p_offset", "p_vaddr", "p_paddr", "p_filesz", "p_memsz", "p_flags",
               "p_align")
EHDR_FIELDS = ("e_version", "e_entry", "e_phoff", "e_shoff", "e_flags", "e_ehsize",
               "e_phentsize", "e_phnum", "e_shentsize", "e_shnum", "e_shstrndx")


def _num(value, table: dict) -> int:
    """pyelftools gives enum members by name and unknown values as numbers."""
    return table[value] if isinstance(value, str) else int(value)


def oracle(data: bytes) -> dict:
    """What pyelftools reads: identification, header and program headers (ELFFile is
    lazy: it reads the section headers only when asked, and is not asked)."""
    elf = ELFFile(io.BytesIO(data))
    ident = elf["e_ident"]
    out = {
        "ei_class": _num(ident["EI_CLASS"], enums.ENUM_EI_CLASS),
        "ei_data": _num(ident["EI_DATA"], enums.ENUM_EI_DATA),
        "ei_version": _num(ident["EI_VERSION"], enums.ENUM_E_VERSION),
        "ei_osabi": _num(ident["EI_OSABI"], enums.ENUM_EI_OSABI),
        "ei_abiversion": ident["EI_ABIVERSION"],
        "e_type": _num(elf["e_type"], enums.ENUM_E_TYPE),
        "e_machine": _num(elf["e_machine"], enums.ENUM_E_MACHINE),
    }
    out.update({f: _num(elf[f], enums.ENUM_E_VERSION) if f == "e_version" else elf[f]
                for f in EHDR_FIELDS})
    out["phdrs"] = [
        {"p_type": _num(seg["p_type"], P_TYPES), **{f: seg[f] for f in PHDR_FIELDS}}
        for seg in (elf.get_segment(i) for i in range(elf["e_phnum"]))]
    return out


def spec(data: bytes) -> dict:
    e = ElfHeader.from_bytes(data)
    h = e.header
    out = {"ei_class": int(e.ei_class), "ei_data": int(e.ei_data),
           "ei_version": e.ei_version, "ei_osabi": e.ei_osabi,
           "ei_abiversion": e.ei_abiversion, "e_type": int(h.e_type),
           "e_machine": int(h.e_machine)}
    out.update({f: getattr(h, f) for f in EHDR_FIELDS})
    out["phdrs"] = [{"p_type": int(p.p_type), **{f: getattr(p, f) for f in PHDR_FIELDS}}
                    for p in (e.program_headers or [])]
    return out


class _Memory:
    """A Source over bytes in memory (what a View reads from)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset:offset + length]


_HEADS: dict[str, bytes] = {}


def head(variant: str, size: int = 0x1000) -> bytes:
    """The first ``size`` bytes of a corpus vmlinux (ELF header and program headers)."""
    if variant not in _HEADS:
        with tempfile.TemporaryDirectory() as tmp:
            _HEADS[variant] = kernel_file(variant, "vmlinux", Path(tmp)).read_bytes()[:0x1000]
    return _HEADS[variant][:size]


@pytest.mark.parametrize("variant", PPC64_VARIANTS)
def test_cross_built_vmlinux_matches_pyelftools(variant):
    data = head(variant)
    got = spec(data)
    assert got == oracle(data)
    assert got["phdrs"] and got["e_machine"] == 21  # EM_PPC64, a real kernel with segments


def test_debian_ppc64el_vmlinux_matches_pyelftools(real_images):
    data = real_images["debian-6.1.0-50-powerpc64le"].read_bytes()[:0x1000]
    got = spec(data)
    assert got == oracle(data)
    assert got["ei_data"] == 1 and got["ei_class"] == 2 and got["phdrs"]


@settings(max_examples=60, deadline=None)
@given(elfclass=st.sampled_from([32, 64]), little=st.booleans(), data=st.data())
def test_headers_pyelftools_builds_parse_alike(elfclass, little, data):
    """ELF32 and ELF64 in both byte orders (the corpus has ELF64 only): pyelftools' own
    structs build a header and a program-header table from drawn values."""
    s = ELFStructs(little_endian=little, elfclass=elfclass)
    s.create_basic_structs()
    s.create_advanced_structs()
    word = st.integers(0, 2**elfclass - 1)
    half, u32 = st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1)
    phnum = data.draw(st.integers(0, 4))
    ehsize = 52 if elfclass == 32 else 64
    phent = 32 if elfclass == 32 else 56
    ehdr = s.Elf_Ehdr.build(Container(
        e_ident=Container(EI_MAG=[0x7F, 0x45, 0x4C, 0x46], EI_CLASS=f"ELFCLASS{elfclass}",
                          EI_DATA="ELFDATA2LSB" if little else "ELFDATA2MSB",
                          EI_VERSION="EV_CURRENT", EI_OSABI="ELFOSABI_SYSV",
                          EI_ABIVERSION=0),
        e_type=data.draw(st.sampled_from(["ET_EXEC", "ET_DYN", "ET_REL"])),
        e_machine=data.draw(st.sampled_from(["EM_PPC64", "EM_AARCH64", "EM_PPC", "EM_ARM"])),
        e_version="EV_CURRENT", e_entry=data.draw(word), e_phoff=ehsize,
        e_shoff=data.draw(word), e_flags=data.draw(u32), e_ehsize=ehsize,
        e_phentsize=phent, e_phnum=phnum, e_shentsize=data.draw(half),
        e_shnum=data.draw(half), e_shstrndx=data.draw(st.integers(0, 0xFEFF))))
    table = b"".join(s.Elf_Phdr.build(Container(
        p_type=data.draw(st.sampled_from(["PT_LOAD", "PT_NOTE", "PT_NULL", "PT_GNU_STACK",
                                          "PT_TLS"])),
        p_flags=data.draw(st.integers(0, 7)), p_offset=data.draw(word),
        p_vaddr=data.draw(word), p_paddr=data.draw(word), p_filesz=data.draw(word),
        p_memsz=data.draw(word), p_align=data.draw(word))) for _ in range(phnum))
    blob = ehdr + table
    got = spec(blob)
    assert got == oracle(blob)
    assert got["ei_class"] == (1 if elfclass == 32 else 2)
    assert len(got["phdrs"]) == phnum
    # the check path's ELF layer (the generated parser over bounded reads) against pyelftools
    elf = ELFFile(io.BytesIO(blob))
    d = elf_decoder.unwrap(View(_Memory(blob), 0, len(blob))).layer.details
    assert (d["machine"], d["type"]) == (elf["e_machine"], elf["e_type"])
    assert (d["entry"], d["flags"]) == (elf["e_entry"], elf["e_flags"])
    assert d["class"] == elfclass and d["endianness"] == ("little" if little else "big")
    assert d["loads"] == [{k: seg["p_" + k] for k in ("offset", "vaddr", "paddr", "filesz",
                                                      "memsz", "align")}
                          for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]


def _verdict(read, blob):
    try:
        return read(blob)
    except (ELFError, ConstructError, KaitaiStructError, EOFError, ValueError,
            OverflowError) as exc:  # pyelftools cannot seek past 2**63
        return type(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variant=st.sampled_from(PPC64_VARIANTS),
       edits=st.lists(st.tuples(st.integers(0, 0xFF), st.integers(0, 255)), max_size=6),
       cut=st.integers(0, 0x100))
def test_mutated_headers_accept_and_fields_alike(variant, edits, cut):
    """Bytes of a real header and program-header table, mutated and cut: both readers
    accept or both refuse, and when both accept every field agrees. Excluded where the
    two define different things: an e_phentsize other than sizeof(Elf_Phdr), where
    pyelftools strides by e_phentsize and the spec (as both kexec loaders) by sizeof."""
    blob = bytearray(head(variant, 0x100))
    for pos, value in edits:
        blob[pos] = value
    blob = bytes(blob[:len(blob) - cut])
    theirs, ours = _verdict(oracle, blob), _verdict(spec, blob)
    for got in (theirs, ours):
        if isinstance(got, dict) and got["phdrs"] and \
                got["e_phentsize"] != (56 if got["ei_class"] == 2 else 32):
            return
    if isinstance(theirs, dict) or isinstance(ours, dict):
        assert ours == theirs


def test_machine_the_spec_does_not_name_is_reported_as_its_number():
    """e_machine 8 (EM_MIPS in the gABI; not in the spec's enum, which names the machines
    kimage meets): the layer reports the number, and the pipeline no header for it."""
    blob = bytearray(head(PPC64_VARIANTS[0]))
    order = "little" if blob[5] == 1 else "big"
    assert int.from_bytes(blob[0x12:0x14], order) == 21  # EM_PPC64, a real vmlinux
    blob[0x12:0x14] = (8).to_bytes(2, order)
    unwrapped = elf_decoder.unwrap(View(_Memory(bytes(blob)), 0, len(blob)))
    assert unwrapped.layer.details["machine"] == 8 and unwrapped.machine == 8
    assert ELFFile(io.BytesIO(bytes(blob)))["e_machine"] == "EM_MIPS"  # pyelftools' name
