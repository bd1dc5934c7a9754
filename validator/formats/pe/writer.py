"""The PE headers of an arm64 EFI application (efi-header.S's shape), for the seed corpus."""

from __future__ import annotations

import struct

from validator.formats.pe import HEADERS_SIZE as PE_HEADERS_SIZE
from validator.formats.pe import IMAGE_FILE_MACHINE_ARM64, PE_SIGNATURE


def pe_header(*, size_of_image: int, entry: int, file_size: int,
              machine: int = IMAGE_FILE_MACHINE_ARM64, nsections: int = 1,
              opt_size: int = 0xF0) -> bytes:
    """"PE\\0\\0", the COFF header and a PE32+ optional header of an EFI application with
    one .text section from SizeOfHeaders to the end of the file (efi-header.S's shape).
    Goes at 0x40 (the Image header's res5 / the DOS header's e_lfanew)."""
    text = max(0, file_size - PE_HEADERS_SIZE)
    coff = struct.pack("<HHIIIHH", machine, nsections, 0, 0, 0, opt_size, 0x0206)
    opt = struct.pack("<HBBIIIII", 0x20B, 2, 0x14, text, 0, 0, entry, PE_HEADERS_SIZE)
    opt += struct.pack("<QIIHHHHHHIIIIHHQQQQII", 0, 0x200, 0x200, 0, 0, 1, 1, 0, 0, 0,
                       max(size_of_image, file_size), PE_HEADERS_SIZE, 0, 10, 0, 0, 0, 0, 0,
                       0, 16)
    opt += bytes(16 * 8)  # data directories, all empty
    opt = opt[:opt_size].ljust(opt_size, b"\0")
    section = struct.pack("<8sIIIIIIHHI", b".text", text, PE_HEADERS_SIZE, text,
                          PE_HEADERS_SIZE, 0, 0, 0, 0, 0x60000020)
    return PE_SIGNATURE + coff + opt + section * min(nsections, 2)
