"""Compressed streams (gzip, xz, lzma, bzip2, lz4, zstd, lzo): one codec table, declared once.

``decoder`` takes the layer off on the check path (one streaming decoder per codec),
``frames`` reads what a stream's first bytes say about its decoding, ``writer`` compresses
as the kernel's build does, ``samples`` the compressed kinds of the seed corpus.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

#: (codec, magic). The kernel's `lz4 -l` legacy frame and the lz4 frame format are both
#: "lz4"; lzma is the legacy .lzma ("LZMA alone") header of `lzma -9`.
MAGICS = (
    ("gzip", b"\x1f\x8b\x08"),
    ("xz", b"\xfd7zXZ\x00"),
    ("zstd", b"\x28\xb5\x2f\xfd"),
    ("lz4", b"\x02\x21\x4c\x18"),
    ("lz4", b"\x04\x22\x4d\x18"),
    ("bzip2", b"BZh"),
    ("lzo", b"\x89LZO"),
    ("lzma", b"\x5d\x00\x00"),
)

#: The lz4 legacy frame's magic (the kernel's `lz4 -l`).
LZ4_LEGACY = MAGICS[3][1]
#: What the seed corpus writes: "lz4" is the kernel's legacy frame (lz4 -l).
CODECS = ("gzip", "xz", "lzma", "bzip2", "zstd", "lz4", "lz4-frame")


def codec_of(head: bytes) -> str | None:
    """The codec whose magic starts ``head`` (bzip2's with its block size digit), or None."""
    for codec, magic in MAGICS:
        if head.startswith(magic):
            if codec == "bzip2" and not (len(head) > 3 and 0x31 <= head[3] <= 0x39):
                continue
            return codec
    return None


def probe(view) -> bool:
    return codec_of(view.read(0, 8)) is not None


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((probe, None, "unwrap"),)
