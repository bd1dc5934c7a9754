"""specs/pe_efi_stub.ksy against pefile, an independent PE/COFF reader: the COFF header,
every optional-header field (PE32+ of the real kernels, PE32 built by mutation of the
magic), the data directories and the section table, on the real EFI-stub Images and zboot
images of the corpus and Debian's signed arm64 Image, and on mutated header bytes. The
certificate table is checked against osslsigncode (its extracted PKCS#7 signature lies
where the spec's WIN_CERTIFICATE says), on Debian's signature and on one osslsigncode
makes. Also compares kimage's PE description (validator/formats/pe/decoder.py, which runs
the generated parser on the check path) with pefile, and pins the three places where the
pefile-based description was wrong (a dropped section table, sections sorted by address,
more than 16 data directories taken)."""

from __future__ import annotations

import gzip
import shutil
import struct
import subprocess
from pathlib import Path

import pefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kaitaistruct import KaitaiStructError

from tests.wrapper_corpus import KERNELS, ZBOOT_VARIANTS, kernel_file
from validator._kaitai.pe_efi_stub import PeEfiStub
from validator.formats.pe import decoder as pe_decoder
from validator.io.views import View

COFF = ("Machine", "NumberOfSections", "TimeDateStamp", "PointerToSymbolTable",
        "NumberOfSymbols", "SizeOfOptionalHeader", "Characteristics")
OPTIONAL = ("Magic", "MajorLinkerVersion", "MinorLinkerVersion", "SizeOfCode",
            "SizeOfInitializedData", "SizeOfUninitializedData", "AddressOfEntryPoint",
            "BaseOfCode", "ImageBase", "SectionAlignment", "FileAlignment",
            "MajorOperatingSystemVersion", "MinorOperatingSystemVersion",
            "MajorImageVersion", "MinorImageVersion", "MajorSubsystemVersion",
            "MinorSubsystemVersion", "Reserved1", "SizeOfImage", "SizeOfHeaders",
            "CheckSum", "Subsystem", "DllCharacteristics", "SizeOfStackReserve",
            "SizeOfStackCommit", "SizeOfHeapReserve", "SizeOfHeapCommit", "LoaderFlags",
            "NumberOfRvaAndSizes")
SECTION = ("Name", "Misc_VirtualSize", "VirtualAddress", "SizeOfRawData",
           "PointerToRawData", "PointerToRelocations", "PointerToLinenumbers",
           "NumberOfRelocations", "NumberOfLinenumbers", "Characteristics")
SPEC_NAME = {"Machine": "machine", "NumberOfSections": "number_of_sections",
             "TimeDateStamp": "time_date_stamp", "PointerToSymbolTable":
             "pointer_to_symbol_table", "NumberOfSymbols": "number_of_symbols",
             "SizeOfOptionalHeader": "size_of_optional_header",
             "Characteristics": "characteristics", "Reserved1": "win32_version_value",
             "Misc_VirtualSize": "virtual_size", "PointerToLinenumbers":
             "pointer_to_linenumbers", "NumberOfLinenumbers": "number_of_linenumbers"}


def _snake(name: str) -> str:
    if name in SPEC_NAME:
        return SPEC_NAME[name]
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _int(value):
    return int(value) if not isinstance(value, bytes) else value


def oracle(data: bytes) -> dict:
    pe = pefile.PE(data=data, fast_load=True)
    opt = pe.OPTIONAL_HEADER
    out = {"e_lfanew": pe.DOS_HEADER.e_lfanew,
           "coff": {f: getattr(pe.FILE_HEADER, f) for f in COFF},
           "optional": {f: getattr(opt, f) for f in OPTIONAL},
           "directories": [(d.VirtualAddress, d.Size) for d in opt.DATA_DIRECTORY],
           # pefile sorts its sections by VirtualAddress; the table order is the file's
           "sections": [{f: getattr(s, f) for f in SECTION}
                        for s in sorted(pe.sections, key=lambda s: s.get_file_offset())]}
    if opt.Magic == 0x10B:
        out["optional"]["BaseOfData"] = opt.BaseOfData
    return out


def spec(k: PeEfiStub) -> dict:
    pe = k.pe
    opt = pe.optional_header
    out = {"e_lfanew": k.e_lfanew,
           "coff": {f: _int(getattr(pe.coff, _snake(f))) for f in COFF},
           "optional": {f: _int(getattr(opt, _snake(f))) for f in OPTIONAL},
           "directories": [(d.virtual_address, d.size) for d in opt.data_directories],
           "sections": [{f: _int(getattr(s, _snake(f))) for f in SECTION}
                        for s in pe.sections]}
    if getattr(opt, "base_of_data", None) is not None:
        out["optional"]["BaseOfData"] = opt.base_of_data
    return out


def images(tmp: Path) -> dict[str, Path]:
    """The PE files of the corpus: EFI-stub Images (whole, from Image.gz, and as header
    excerpts) and zboot images."""
    out = {"arm64-4k-le-efi/Image": kernel_file("arm64-4k-le-efi", "Image", tmp)}
    whole = tmp / "Image-from-gz"
    whole.write_bytes(gzip.decompress((KERNELS / "arm64-4k-le-efi/Image.gz").read_bytes()))
    out["arm64-4k-le-efi/Image.gz (decompressed)"] = whole
    for v in ZBOOT_VARIANTS:
        out[f"{v}/vmlinuz.efi"] = kernel_file(v, "vmlinuz.efi", tmp)
        out[f"{v}/Image"] = kernel_file(v, "Image", tmp)
    return out


NAMES = ["arm64-4k-le-efi/Image", "arm64-4k-le-efi/Image.gz (decompressed)",
         *[f"{v}/{n}" for v in ZBOOT_VARIANTS for n in ("vmlinuz.efi", "Image")]]


@pytest.fixture(scope="module")
def corpus_pe(tmp_path_factory) -> dict[str, Path]:
    return images(tmp_path_factory.mktemp("pe"))


def _head(path: Path, size: int = 0x1000) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


@pytest.mark.parametrize("name", NAMES)
def test_corpus_pe_headers_match_pefile(name, corpus_pe):
    data = _head(corpus_pe[name])
    got = spec(PeEfiStub.from_bytes(data))
    assert got == oracle(data)
    assert got["coff"]["Machine"] == 0xAA64 and got["optional"]["Subsystem"] == 10
    assert [s["Name"].rstrip(b"\0") for s in got["sections"]] == [b".text", b".data"]


def test_debian_signed_image_matches_pefile_and_osslsigncode(real_images, tmp_path):
    path = real_images["debian-6.1.0-50-arm64"]
    k = PeEfiStub.from_file(str(path))
    got = spec(k)
    assert got == oracle(_head(path))
    _check_certificate(k, path, tmp_path)


def _check_certificate(k: PeEfiStub, path: Path, tmp_path: Path) -> None:
    """osslsigncode extracts the PKCS#7 SignedData; it is bCertificate of the
    WIN_CERTIFICATE the spec finds through data directory 4."""
    if shutil.which("osslsigncode") is None:
        pytest.skip("osslsigncode is not installed (apt-get install osslsigncode)")
    sig = tmp_path / "sig.der"
    p = subprocess.run(["osslsigncode", "extract-signature", "-in", str(path), "-out",
                        str(sig)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    der = sig.read_bytes()
    table = k.pe.certificate_table
    assert k.pe.has_certificate_table
    cert = k.certificate
    assert cert.revision == PeEfiStub.WinCertRevision.revision_2_0
    assert cert.certificate_type == PeEfiStub.WinCertType.pkcs_signed_data
    assert 8 + len(der) <= cert.length <= table.size
    with open(path, "rb") as f:
        f.seek(table.virtual_address + 8)
        assert f.read(len(der)) == der


def test_certificate_osslsigncode_writes(corpus_pe, tmp_path):
    if shutil.which("osslsigncode") is None or shutil.which("openssl") is None:
        pytest.skip("osslsigncode or openssl is not installed")
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=kimage-test", "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    signed = tmp_path / "signed.efi"
    subprocess.run(["osslsigncode", "sign", "-certs", str(cert), "-key", str(key), "-in",
                    str(corpus_pe["arm64-4k-le-zboot-gzip/vmlinuz.efi"]), "-out", str(signed)],
                   check=True, capture_output=True, timeout=60)
    k = PeEfiStub.from_file(str(signed))
    assert spec(k) == oracle(_head(signed))
    _check_certificate(k, signed, tmp_path)
    assert k.pe.certificate_table.virtual_address + k.pe.certificate_table.size == \
        signed.stat().st_size


ZBOOT = (KERNELS / "arm64-4k-le-zboot-gzip/vmlinuz.efi").read_bytes()
#: pefile's warnings that mean it dropped sections by a heuristic of its own (a section
#: header of zeros, too many suspicious values), not by the layout.
PEFILE_GAVE_UP = ("Invalid section", "Aborting")


def _in_domain(data: bytes) -> bool:
    """Where pefile and the spec read the same bytes: a PE signature at e_lfanew, an
    optional header of exactly its fixed part plus NumberOfRvaAndSizes (<= 16)
    directories (pefile reads the optional header and its directories past
    SizeOfOptionalHeader; the spec, like EDK2, within it)."""
    try:
        lfanew = struct.unpack_from("<I", data, 0x3C)[0]
        if data[lfanew:lfanew + 4] != b"PE\0\0":
            return False
        opt_size = struct.unpack_from("<H", data, lfanew + 20)[0]
        magic = struct.unpack_from("<H", data, lfanew + 24)[0]
        fixed = {0x10B: 96, 0x20B: 112}[magic]
        count = struct.unpack_from("<I", data, lfanew + 24 + fixed - 4)[0]
    except (struct.error, KeyError):
        return False
    return count <= 16 and opt_size == fixed + 8 * count


def as_pe32(data: bytes) -> bytes:
    """The zboot image's headers rewritten as PE32 (PE Format, "Optional Header"): the
    same values in the 32-bit layout (BaseOfData 0, 32-bit ImageBase and stack/heap
    sizes), the same directories, SizeOfOptionalHeader to match, the section table moved
    up behind it."""
    opt = 0x40 + 24
    count = struct.unpack_from("<I", data, opt + 108)[0]
    nsect, opt_size = struct.unpack_from("<H", data, 0x40 + 6)[0], 112 + 8 * count
    (magic, lmaj, lmin, code, init, uninit, entry, base_code, image_base, sect_align,
     file_align, *versions, w32, size_image, size_headers, checksum, subsystem, dllch,
     s_res, s_com, h_res, h_com, loader_flags, nrva) = struct.unpack_from(
        "<HBBIIIIIQII6HIIIIHHQQQQII", data, opt)
    pe32 = struct.pack("<HBBIIIIIIIII6HIIIIHHIIIIII", 0x10B, lmaj, lmin, code, init, uninit,
                       entry, base_code, 0, image_base & 0xFFFFFFFF, sect_align, file_align,
                       *versions, w32, size_image, size_headers, checksum, subsystem, dllch,
                       s_res & 0xFFFFFFFF, s_com & 0xFFFFFFFF, h_res & 0xFFFFFFFF,
                       h_com & 0xFFFFFFFF, loader_flags, nrva)
    dirs = data[opt + 112:opt + opt_size]
    sections = data[opt + opt_size:opt + opt_size + 40 * nsect]
    out = bytearray(data)
    struct.pack_into("<H", out, 0x40 + 20, 96 + 8 * count)
    out[opt:opt + opt_size + 40 * nsect] = (pe32 + dirs + sections).ljust(
        opt_size + 40 * nsect, b"\0")
    return bytes(out)


def test_pe32_rewrite_matches_pefile():
    data = as_pe32(ZBOOT)
    got = spec(PeEfiStub.from_bytes(data))
    assert got == oracle(data)
    assert got["optional"]["Magic"] == 0x10B and got["optional"]["BaseOfData"] == 0
    assert [s["Name"] for s in got["sections"]] == [b".text\0\0\0", b".data\0\0\0"]


@settings(max_examples=150, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0x3C, 0x160), st.integers(0, 255)), max_size=6),
       pe32=st.booleans(), keep=st.one_of(st.none(), st.integers(0x40, 0x200)))
def test_mutated_headers_match_pefile(edits, pe32, keep):
    """Mutated headers of a real zboot image (and of its PE32 rewrite),
    whole or cut short: where both define the layout, both accept or both refuse, and
    every field agrees."""
    blob = bytearray(ZBOOT)
    if pe32:
        blob = bytearray(as_pe32(bytes(blob)))
    for pos, value in edits:
        blob[pos] = value
    blob = bytes(blob[:keep])
    if not _in_domain(blob):
        return
    try:
        theirs = oracle(blob)
        warnings = pefile.PE(data=blob, fast_load=True).get_warnings()
        if any(w.startswith(PEFILE_GAVE_UP) or "Aborting" in w for w in warnings):
            return
    except pefile.PEFormatError:
        theirs = None
    try:
        ours = spec(PeEfiStub.from_bytes(blob))
    except (KaitaiStructError, EOFError, ValueError):
        ours = None
    assert ours == theirs


# --- kimage's PE description (validator/formats/pe/decoder.py) against pefile ----------


class _Memory:
    """A Source over bytes in memory (what a View reads from)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset:offset + length]


def describe(data: bytes) -> tuple[dict, list[str]]:
    d, findings = pe_decoder.describe(View(_Memory(data), 0, len(data)))
    return d, [f.rule for f in findings]


def pefile_sections(data: bytes) -> list[tuple]:
    """pefile's sections in section-table order (pefile sorts them by VirtualAddress)."""
    pe = pefile.PE(data=data, fast_load=True)
    return [(s.Name.rstrip(b"\0").decode("latin-1"), s.VirtualAddress, s.Misc_VirtualSize,
             s.PointerToRawData, s.SizeOfRawData)
            for s in sorted(pe.sections, key=lambda s: s.get_file_offset())]


def _sections(d: dict) -> list[tuple]:
    return [(s["name"], s["virtual_address"], s["virtual_size"], s["raw_offset"],
             s["raw_size"]) for s in d["sections"]]


#: The zboot image's PE layout (its headers as pefile reads them): e_lfanew, the optional
#: header and the section table behind it.
_PE = pefile.PE(data=ZBOOT, fast_load=True)
LFANEW = _PE.DOS_HEADER.e_lfanew
OPT = LFANEW + 24
TABLE = OPT + _PE.FILE_HEADER.SizeOfOptionalHeader


@settings(max_examples=150, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0x3C, 0x1A0), st.integers(0, 255)), max_size=6))
def test_mutated_headers_described_as_pefile_reads_them(edits):
    """Mutated headers of a real zboot image: where pefile reads the layout the spec does
    and keeps every section, kimage's description holds pefile's values."""
    blob = bytearray(ZBOOT)
    for pos, value in edits:
        blob[pos] = value
    blob = bytes(blob)
    if not _in_domain(blob):
        return
    try:
        pe = pefile.PE(data=blob, fast_load=True)
    except pefile.PEFormatError:
        return
    if any(w.startswith(PEFILE_GAVE_UP) or "Aborting" in w for w in pe.get_warnings()):
        return  # defect (1): pefile dropped sections; see the test below
    d, rules = describe(blob)
    if "pe/malformed" in rules:  # the spec refused it: pefile must have read no layout
        assert pe.OPTIONAL_HEADER.Magic not in (0x10B, 0x20B)
        return
    opt = pe.OPTIONAL_HEADER
    assert (d["machine"], d["sections_count"], d["size_of_optional_header"],
            d["characteristics"]) == (pe.FILE_HEADER.Machine, pe.FILE_HEADER.NumberOfSections,
                                      pe.FILE_HEADER.SizeOfOptionalHeader,
                                      pe.FILE_HEADER.Characteristics)
    assert (d["optional_magic"], d["subsystem"], d["size_of_image"], d["entry_point"],
            d["image_base"], d["number_of_rva_and_sizes"]) == (
        opt.Magic, opt.Subsystem, opt.SizeOfImage, opt.AddressOfEntryPoint, opt.ImageBase,
        opt.NumberOfRvaAndSizes)
    assert _sections(d) == pefile_sections(blob)


def test_suspicious_section_is_reported_not_dropped():
    """Defect (1) of the pefile-based description: section 0's PointerToRawData 0x1000 ->
    0x1001 makes pefile, given the header bytes (as the description read them), drop the
    section table ("Invalid section"/"Aborting" warnings, no sections) without an error.
    kimage reports both sections, as the table holds them."""
    assert struct.unpack_from("<I", ZBOOT, TABLE + 20)[0] == 0x1000
    blob = bytearray(ZBOOT)
    struct.pack_into("<I", blob, TABLE + 20, 0x1001)
    headers = bytes(blob[:TABLE + 40 * _PE.FILE_HEADER.NumberOfSections])
    assert pefile.PE(data=headers, fast_load=True).sections == []  # pefile gave up
    want = pefile_sections(ZBOOT)
    want[0] = (*want[0][:3], 0x1001, want[0][4])
    d, rules = describe(bytes(blob))
    assert rules == [] and _sections(d) == want
    assert [s[0] for s in want] == [".text", ".data"]


def test_sections_in_section_table_order():
    """Defect (2): pefile sorts its sections by VirtualAddress; a loader walks the table.
    With the zboot image's two section headers swapped, kimage reports .data first."""
    blob = bytearray(ZBOOT)
    text, data = blob[TABLE:TABLE + 40], blob[TABLE + 40:TABLE + 80]
    blob[TABLE:TABLE + 80] = data + text
    pe = pefile.PE(data=bytes(blob), fast_load=True)
    assert [s.Name.rstrip(b"\0") for s in pe.sections] == [b".text", b".data"]  # sorted
    d, rules = describe(bytes(blob))
    assert rules == []
    assert _sections(d) == list(reversed(pefile_sections(ZBOOT)))


def test_more_than_16_data_directories_is_malformed():
    """Defect (3): NumberOfRvaAndSizes 17 (zeroed directories appended, SizeOfOptionalHeader
    to match, the section table moved up into the header padding): EDK2's
    PeCoffLoaderGetPeHeader refuses more than EFI_IMAGE_NUMBER_OF_DIRECTORY_ENTRIES (16);
    pefile only warns, and the pefile-based description took it."""
    count_at = OPT + 108  # PE32+ NumberOfRvaAndSizes (PE Format, "Optional Header")
    count = struct.unpack_from("<I", ZBOOT, count_at)[0]
    assert count == _PE.OPTIONAL_HEADER.NumberOfRvaAndSizes < 17
    extra = 8 * (17 - count)
    end = TABLE + 40 * _PE.FILE_HEADER.NumberOfSections
    assert ZBOOT[end:end + extra] == bytes(extra)  # padding up to SizeOfHeaders
    blob = bytearray(ZBOOT)
    struct.pack_into("<I", blob, count_at, 17)
    struct.pack_into("<H", blob, LFANEW + 20, _PE.FILE_HEADER.SizeOfOptionalHeader + extra)
    blob[TABLE:end + extra] = bytes(extra) + ZBOOT[TABLE:end]
    pe = pefile.PE(data=bytes(blob), fast_load=True)
    assert pe.OPTIONAL_HEADER.NumberOfRvaAndSizes == 17
    assert any("NumberOfRvaAndSizes" in w for w in pe.get_warnings())
    d, rules = describe(bytes(blob))
    assert rules == ["pe/malformed"]
    assert d["number_of_rva_and_sizes"] == 17 and _sections(d) == pefile_sections(ZBOOT)


#: pefile's machine names (an independent table) -> the architecture kimage names.
PEFILE_MACHINES = {"IMAGE_FILE_MACHINE_ARM64": "arm64", "IMAGE_FILE_MACHINE_AMD64": "x86_64",
                   "IMAGE_FILE_MACHINE_I386": "i386", "IMAGE_FILE_MACHINE_RISCV64": "riscv64",
                   "IMAGE_FILE_MACHINE_ARM": "arm", "IMAGE_FILE_MACHINE_THUMB": "arm",
                   "IMAGE_FILE_MACHINE_ARMNT": "arm", "IMAGE_FILE_MACHINE_IA64": "ia64",
                   "IMAGE_FILE_MACHINE_RISCV32": "riscv32",
                   "IMAGE_FILE_MACHINE_RISCV128": "riscv128",
                   "IMAGE_FILE_MACHINE_LOONGARCH32": "loongarch32",
                   "IMAGE_FILE_MACHINE_LOONGARCH64": "loongarch64"}


@pytest.mark.parametrize("name, arch", sorted(PEFILE_MACHINES.items()))
def test_a_pe_machine_has_one_name_in_the_pe_description_and_the_foreign_format(name, arch):
    """formats.pe.MACHINES is the one PE Machine table: the PE description's
    machine_name and the foreign format's architecture agree, for every machine."""
    from validator.formats.foreign.decoder import identify
    from validator.formats.pe import MACHINES, OWN_MACHINES
    from validator.formats.pe.writer import pe_header

    machine = pefile.MACHINE_TYPE[name]
    assert MACHINES[machine] == arch
    data = (b"MZ" + bytes(0x3A) + (0x40).to_bytes(4, "little")
            + pe_header(size_of_image=0x2000, entry=0x1000, file_size=0x2000,
                        machine=machine)).ljust(0x2000, b"\0")
    d, _ = describe(data)
    assert d["machine"] == machine and d["machine_name"] == arch
    found = identify(View(_Memory(data), 0, len(data)))
    assert (found is None) == (machine in OWN_MACHINES)
    assert found is None or found[0] == arch
