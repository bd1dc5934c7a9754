"""EFI zboot (Linux drivers/firmware/efi/libstub/zboot-header.S): a PE/COFF EFI
application whose payload is a compressed arm64 Image. Its constants, declared once.

``decoder`` takes the layer off on the check path, ``samples`` builds zboot files and their
mutations for the seed corpus.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

MAGIC = b"MZ\0\0zimg"
HEADER_SIZE = 0x40

#: header name -> codec. 6.1-6.12.10 write gzip lz4 lzma lzo xzkern zstd22; 6.13+ gzip|zstd.
NAMES = {"gzip": "gzip", "lz4": "lz4", "lzma": "lzma", "lzo": "lzo", "xzkern": "xz",
         "zstd22": "zstd", "zstd": "zstd"}
#: kexec-tools' check: the first 4 bytes of the name in {gzip, zstd, lzma} (kexec-pe-zboot.c)
KEXEC_TOOLS_PREFIXES = ("gzip", "zstd", "lzma")
#: The "linux_pe_magic" at 0x38 of an EFI zboot header, as of an EFI-stub Image's.
LINUX_PE_MAGIC = 0x818223CD
#: Where zboot-header.S places the compressed payload (SizeOfHeaders).
PAYLOAD_OFFSET = 0x200


def probe(view) -> bool:
    return view.read(0, 8) == MAGIC


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((probe, None, "unwrap"),)
