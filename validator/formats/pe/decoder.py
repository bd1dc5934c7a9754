"""The PE/COFF header of an EFI-stub kernel or an EFI zboot image.

UEFI firmware, GRUB and systemd-boot start an arm64 kernel as a PE application: they
read the DOS header's e_lfanew (the Image header's res5 at 0x3c), the COFF header, the
optional header and the section table. This layer describes those headers; it judges
nothing but structure (``pe/malformed``). The optional header, its data directories and
the section table are read by the parser generated from ``specs/pe_efi_stub.ksy``, only
when a complete set of headers with an optional header is there (a header start alone,
as in synthetic images and excerpts, or headers cut short by the end of the file are
described without it), and it is given only the header bytes, up to the end of the
section table. Sections are reported in section-table order, every one of them.
tests/test_wrapper_specs_pe.py holds the spec and this description against pefile.
"""

from __future__ import annotations

import struct

from validator.catalogue import finding, rule
from validator.formats.pe import IMAGE_DIRECTORY_ENTRY_SECURITY, MACHINES, SIGNATURE
from validator.formats.results import kaitai_parse

MAX_HEADERS = 1 << 20  # COFF + optional header + section table beyond this is malformed
#: EFI_IMAGE_NUMBER_OF_DIRECTORY_ENTRIES: EDK2's PeCoffLoaderGetPeHeader refuses an image
#: with more data directories (edk2-stable202302 MdePkg/Library/BasePeCoffLib/BasePeCoff.c).
MAX_DIRECTORIES = 16

rule("pe/malformed", "error",
     "the PE/COFF headers of the EFI stub cannot be parsed",
     "UEFI firmware (EDK2 PeCoffLoaderGetPeHeader), systemd-boot and GRUB's EFI loader parse "
     "the COFF and optional headers and the section table before they start the kernel; "
     "headers that do not parse are refused.",
     "PE Format (Microsoft), 'Optional Header'; EDK2 MdePkg/Library/BasePeCoffLib "
     "PeCoffLoaderGetPeHeader (edk2-stable202302)",
     ("grub", "efi"))


def describe(view) -> tuple[dict, list]:
    """(details, findings) for the PE headers of ``view`` (which starts with "MZ").

    The details go where the caller puts them: an EFI-stub Image *is* its PE file, so the
    pipeline puts them in ``derived["pe"]`` beside the header; the zboot layer keeps those
    of its wrapper under ``pe`` in its own details.
    """
    d: dict = {}
    findings = []
    lfanew_raw = view.read(0x3C, 4)
    if len(lfanew_raw) < 4:
        d["truncated"] = True
        return d, findings
    lfanew = struct.unpack("<I", lfanew_raw)[0]
    d["pe_offset"] = lfanew
    sig = view.read(lfanew, 4) if lfanew else b""
    d["signature"] = sig.hex()
    d["signature_ok"] = sig == SIGNATURE
    if sig != SIGNATURE:
        return d, findings
    coff = view.read(lfanew + 4, 20)
    if len(coff) < 20:
        d["truncated"] = True
        return d, findings
    machine, nsections, _, _, _, opt_size, characteristics = struct.unpack("<HHIIIHH", coff)
    d.update({"machine": machine, "machine_name": MACHINES.get(machine),
              "sections_count": nsections, "size_of_optional_header": opt_size,
              "characteristics": characteristics})
    headers_end = lfanew + 24 + opt_size + 40 * nsections
    if headers_end > MAX_HEADERS:
        findings.append(finding("pe/malformed", f"PE headers would end at {headers_end:#x}, "
                                f"beyond any kernel's ({nsections} sections, optional header "
                                f"{opt_size:#x} bytes)", offset=lfanew))
        return d, findings
    if opt_size == 0:
        # A header start only (synthetic images, excerpts): no optional header to parse.
        # Whether a loader accepts a PE without an optional header is for the rules.
        d["optional_header"] = False
        return d, findings
    data = view.read(0, headers_end)
    if len(data) < headers_end:
        d["truncated"] = True  # an excerpt or a file cut short: nothing more to parse
        return d, findings
    try:
        pe = _parse(data)
        _details(pe, d, view)
    except Exception as exc:  # a failed ``valid``, a short optional header, a bad field
        findings.append(finding("pe/malformed", f"PE headers: {type(exc).__name__}: {exc}",
                                offset=lfanew))
        return d, findings
    count = d["number_of_rva_and_sizes"]
    if count > MAX_DIRECTORIES:
        findings.append(finding(
            "pe/malformed", f"NumberOfRvaAndSizes is {count}, more than the "
            f"{MAX_DIRECTORIES} data directories EDK2's PeCoffLoaderGetPeHeader takes",
            offset=lfanew + 24 + (92 if d["optional_magic"] == 0x10B else 108),
            field="NumberOfRvaAndSizes"))
    return d, findings


def _parse(data: bytes):
    """The spec's ``pe_header`` over ``data`` (the file up to the end of the section
    table), or the parser's error raised."""
    from validator._kaitai.pe_efi_stub import PeEfiStub

    root, error = kaitai_parse(PeEfiStub, data)
    if error is not None:
        raise error
    return root.pe  # an instance: parsed here, and its errors raised here


def _win_certificate(head: bytes):
    """The spec's ``win_certificate`` over the 8 bytes at the certificate table (outside
    the headers the parser was given: the table lies at the end of the file)."""
    from kaitaistruct import BytesIO, KaitaiStream

    from validator._kaitai.pe_efi_stub import PeEfiStub

    return PeEfiStub.WinCertificate(KaitaiStream(BytesIO(head)))


def _details(pe, d: dict, view) -> None:
    opt = pe.optional_header
    d.update({
        "optional_magic": int(opt.magic),
        "subsystem": int(opt.subsystem),
        "size_of_image": opt.size_of_image,
        "size_of_headers": opt.size_of_headers,
        "entry_point": opt.address_of_entry_point,
        "base_of_code": opt.base_of_code,
        "image_base": opt.image_base,
        "section_alignment": opt.section_alignment,
        "file_alignment": opt.file_alignment,
        "image_version": [opt.major_image_version, opt.minor_image_version],
        "dll_characteristics": opt.dll_characteristics,
        "number_of_rva_and_sizes": opt.number_of_rva_and_sizes,
    })
    length = getattr(view, "known_length", None)
    sections = []
    for s in pe.sections:
        entry = {
            "name": s.name.rstrip(b"\0").decode("latin-1"),
            "virtual_address": s.virtual_address,
            "virtual_size": s.virtual_size,
            "raw_offset": s.pointer_to_raw_data,
            "raw_size": s.size_of_raw_data,
        }
        if length is not None:
            entry["raw_in_file"] = s.pointer_to_raw_data + s.size_of_raw_data <= length
        sections.append(entry)
    d["sections"] = sections
    dirs = opt.data_directories
    security = dirs[IMAGE_DIRECTORY_ENTRY_SECURITY] if len(dirs) > 4 else None
    if security is not None and security.size:
        # The certificate table's "VirtualAddress" is a file offset (PE Format, 4.7).
        cert = {"offset": security.virtual_address, "size": security.size}
        if length is not None:
            cert["in_file"] = security.virtual_address + security.size <= length
            cert["ends_at_eof"] = security.virtual_address + security.size == length
        if not view.transformed:
            head = view.read(security.virtual_address, 8)
            if len(head) == 8:  # the spec's win_certificate, where the table begins
                c = _win_certificate(head)
                cert.update({"win_certificate_length": c.length, "revision": int(c.revision),
                             "certificate_type": int(c.certificate_type)})
        d["authenticode"] = cert
    else:
        d["authenticode"] = None
