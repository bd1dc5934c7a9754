"""Flattened Image Tree (FIT, U-Boot's ``fitImage`` / ``.itb``): a devicetree blob whose
``/images`` nodes hold the kernel (and device trees, ramdisks) and whose
``/configurations`` say which to boot. Its constants, declared once.

``tree`` reads the blob's node tree with the parser generated from ``specs/fdt.ksy``,
``decoder`` takes the layer off on the check path (the kernel image of the default
configuration), ``samples`` builds FIT images and their mutations for the seed corpus.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

#: FDT_MAGIC (dtc libfdt/fdt.h), big-endian at 0.
MAGIC = b"\xd0\x0d\xfe\xed"
HEADER_SIZE = 40
#: Bounds of the walk: tokens, node depth, and the values read as text or numbers.
MAX_TOKENS = 1 << 14
MAX_DEPTH = 32
MAX_SMALL_VALUE = 4096
HASH_CHUNK = 1 << 20

#: U-Boot boot/image.c uimage_comp short names -> kimage's codec names.
COMPRESSION = {"none": None, "gzip": "gzip", "bzip2": "bzip2", "lzma": "lzma", "lzo": "lzo",
               "lz4": "lz4", "zstd": "zstd"}
#: Image types bootm boots as the OS image (boot/image-fit.c fit_image_load: IH_TYPE_KERNEL
#: or IH_TYPE_KERNEL_NOLOAD for the kernel).
KERNEL_TYPES = ("kernel", "kernel_noload")
#: Hash algorithms U-Boot verifies (boot/image-fit.c calculate_hash): name -> value length.
HASH_ALGOS = {"crc32": 4, "md5": 16, "sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}


def probe(view) -> bool:
    return view.read(0, 4) == MAGIC


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((probe, None, "unwrap"),)
