"""RPM packages (rpm 4.x, package format v3): a 96-byte lead, the signature header
(padded to 8 bytes), the main header and the compressed cpio payload that holds
``lib/modules/V/vmlinuz`` (Fedora's kernel-core) or ``boot/vmlinuz-V``. Constants,
declared once.

``header`` reads an rpm header structure (index entries + data store; also what the rpm
database keeps, see ``validator.kdump.toolsread``), ``cpio`` walks the payload's cpio
archive, bounded, ``decoder`` takes the layers off on the check path.

Facts from rpm's own description of its format (rpm-4.18.0: docs/manual/format.md,
docs/manual/tags.md, lib/header_internal.h, lib/rpmtag.h, lib/cpio.c); nothing is copied.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

MAGIC = LEAD_MAGIC = b"\xed\xab\xee\xdb"
LEAD_SIZE = 96
#: A header structure's magic: 8e ad e8, header version 1, then four reserved bytes.
HEADER_MAGIC = b"\x8e\xad\xe8\x01"
HEADER_INTRO = 16  # magic 4, reserved 4, index count 4, store size 4 (big-endian)
ENTRY_SIZE = 16  # tag, type, offset, count (big-endian u32 each)
#: The lead's signature type rpm 3+ writes: the signature is a header structure.
SIGTYPE_HEADERSIG = 5

#: Tag data types (lib/rpmtag.h rpmTagType_e).
CHAR, INT8, INT16, INT32, INT64, STRING, BIN, STRING_ARRAY, I18NSTRING = range(1, 10)
#: Region tags (docs/manual/hregions.md): the immutable region of the main header and the
#: signature header's.
HEADERSIGNATURES = 62
HEADERIMMUTABLE = 63

#: Main header tags (lib/rpmtag.h; docs/manual/tags.md).
NAME, VERSION, RELEASE, EPOCH = 1000, 1001, 1002, 1003
ARCH = 1022
FILESIZES = 1028
FILEMODES = 1030
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
PAYLOADFORMAT, PAYLOADCOMPRESSOR, PAYLOADFLAGS = 1124, 1125, 1126
LONGFILESIZES = 5008
#: Signature header tags: the size of main header + payload (u32, and u64 for large).
SIG_SIZE = 1000
SIG_SHA256 = 273
SIG_LONGSIZE = 270
SIG_PAYLOADSIZE = 1007

#: cpio magics in an rpm payload (lib/cpio.c): SVR4 "newc", its CRC variant, and the
#: "stripped" header rpm writes for packages with files of 4 GiB or more (the magic and
#: the file's index in the header; name and size come from the header).
CPIO_NEWC = b"070701"
CPIO_CRC = b"070702"
CPIO_STRIPPED = b"07070X"

#: PAYLOADCOMPRESSOR values kimage decodes (rpm's default when absent is gzip).
COMPRESSORS = {"gzip": "gzip", "xz": "xz", "zstd": "zstd", "lzma": "lzma", "bzip2": "bzip2"}


def probe(view) -> bool:
    return view.read(0, 4) == LEAD_MAGIC


def cpio_magic(view) -> bool:
    """A cpio archive's magic (the decoder's ``cpio_probe`` then asks whether it is an
    RPM's payload)."""
    return view.read(0, 6) in (CPIO_NEWC, CPIO_CRC, CPIO_STRIPPED)


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((probe, None, "unwrap"), (cpio_magic, "cpio_probe", "cpio_unwrap"))
