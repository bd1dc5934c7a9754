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
#: The findings about the header's payload fields alone (where the payload is, its codec):
#: kexec-tools and QEMU unpack the image by them; the image's own stub reads none of them
#: (zboot.c decompresses [_gzdata_start, _gzdata_end) with the codec built into it), so a
#: loader that starts that stub (``validator.loaders`` ``STARTS_ZBOOT_STUB``) ignores them.
HEADER_FIELD_RULES = frozenset({"zboot/payload-outside-file", "zboot/unknown-compression",
                                "zboot/compression-mismatch"})


def probe(view) -> bool:
    return view.read(0, 8) == MAGIC


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((probe, None, "unwrap"),)
