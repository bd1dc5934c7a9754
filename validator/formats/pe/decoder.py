"""The PE/COFF header of an EFI-stub kernel or an EFI zboot image (via pefile).

UEFI firmware, GRUB and systemd-boot start an arm64 kernel as a PE application: they
read the DOS header's e_lfanew (the Image header's res5 at 0x3c), the COFF header, the
optional header and the section table. This layer describes those headers; it judges
nothing but structure (``pe/malformed``). pefile is imported only when a complete set of
headers with an optional header is there to parse (a header start alone, as in synthetic
images and excerpts, or headers cut short by the end of the file are described without
it), and is given only the header bytes (``fast_load``).
"""

from __future__ import annotations

import struct

from validator.catalogue import finding, rule
from validator.formats.pe import IMAGE_DIRECTORY_ENTRY_SECURITY, MACHINES, SIGNATURE

MAX_HEADERS = 1 << 20  # COFF + optional header + section table beyond this is malformed

rule("pe/malformed", "error",
     "the PE/COFF headers of the EFI stub cannot be parsed",
     "UEFI firmware (EDK2 PeCoffLoaderGetPeHeader), systemd-boot and GRUB's EFI loader parse "
     "the COFF and optional headers and the section table before they start the kernel; "
     "headers that do not parse are refused.",
     "PE Format (Microsoft), 'Optional Header'; shared/reference/arm64.md sections 3-5",
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
        # A header start only (synthetic images, excerpts): nothing for pefile to parse.
        # Whether a loader accepts a PE without an optional header is for the rules.
        d["optional_header"] = False
        return d, findings
    data = view.read(0, headers_end)
    if len(data) < headers_end:
        d["truncated"] = True  # an excerpt or a file cut short: nothing more to parse
        return d, findings
    try:
        import pefile

        pe = pefile.PE(data=data, fast_load=True)
    except Exception as exc:  # pefile.PEFormatError and struct errors alike
        findings.append(finding("pe/malformed", f"pefile: {exc}", offset=lfanew))
        return d, findings
    # pefile over bytes holds no file or mmap, so nothing needs closing (its close() runs a
    # full garbage collection, milliseconds per image).
    try:
        _details(pe, d, view)
    except Exception as exc:
        findings.append(finding("pe/malformed", f"PE headers: {type(exc).__name__}: {exc}",
                                offset=lfanew))
    return d, findings


def _details(pe, d: dict, view) -> None:
    opt = pe.OPTIONAL_HEADER
    d.update({
        "optional_magic": opt.Magic,
        "subsystem": opt.Subsystem,
        "size_of_image": opt.SizeOfImage,
        "size_of_headers": opt.SizeOfHeaders,
        "entry_point": opt.AddressOfEntryPoint,
        "base_of_code": opt.BaseOfCode,
        "image_base": opt.ImageBase,
        "section_alignment": opt.SectionAlignment,
        "file_alignment": opt.FileAlignment,
        "image_version": [opt.MajorImageVersion, opt.MinorImageVersion],
        "dll_characteristics": opt.DllCharacteristics,
        "number_of_rva_and_sizes": opt.NumberOfRvaAndSizes,
    })
    length = getattr(view, "known_length", None)
    sections = []
    for s in pe.sections:
        entry = {
            "name": s.Name.rstrip(b"\0").decode("latin-1"),
            "virtual_address": s.VirtualAddress,
            "virtual_size": s.Misc_VirtualSize,
            "raw_offset": s.PointerToRawData,
            "raw_size": s.SizeOfRawData,
        }
        if length is not None:
            entry["raw_in_file"] = s.PointerToRawData + s.SizeOfRawData <= length
        sections.append(entry)
    d["sections"] = sections
    dirs = getattr(opt, "DATA_DIRECTORY", [])
    security = dirs[IMAGE_DIRECTORY_ENTRY_SECURITY] if len(dirs) > 4 else None
    if security is not None and security.Size:
        # The certificate table's "VirtualAddress" is a file offset (PE Format, 4.7).
        cert = {"offset": security.VirtualAddress, "size": security.Size}
        if length is not None:
            cert["in_file"] = security.VirtualAddress + security.Size <= length
            cert["ends_at_eof"] = security.VirtualAddress + security.Size == length
        if not view.transformed:
            head = view.read(security.VirtualAddress, 8)
            if len(head) == 8:
                ln, rev, typ = struct.unpack("<IHH", head)
                cert.update({"win_certificate_length": ln, "revision": rev,
                             "certificate_type": typ})
        d["authenticode"] = cert
    else:
        d["authenticode"] = None
