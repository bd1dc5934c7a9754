"""The legacy U-Boot image (U-Boot include/image.h ``legacy_img_hdr``, big-endian): its
constants, declared once.

``decoder`` takes the layer off on the check path, ``samples`` builds uImages and their
mutations for the seed corpus.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

MAGIC = b"\x27\x05\x19\x56"
HEADER_SIZE = 64
CRC_CHUNK = 1 << 20

COMP = {0: None, 1: "gzip", 2: "bzip2", 3: "lzma", 4: "lzo", 5: "lz4", 6: "zstd"}
OS = {5: "linux"}
ARCH = {2: "arm", 3: "i386", 7: "powerpc", 22: "arm64", 26: "riscv"}
TYPE = {2: "kernel", 14: "kernel_noload", 3: "ramdisk", 4: "multi", 8: "flat_dt"}


def probe(view) -> bool:
    return view.read(0, 4) == MAGIC


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((probe, None, "unwrap"),)
