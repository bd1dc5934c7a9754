"""The rules of a layer of any kind (a container or a stream decoded, its size, its end, the
bounds kimage decodes within), declared once. The compression decoder reports most of
them; every reader that reports one imports this leaf (not that decoder), whatever was
imported before it: the registry imports a decoder only when its format matched."""

from __future__ import annotations

from validator.catalogue import ALL_LOADERS, rule

rule("layer/truncated", "error",
     "a compressed stream or an archive ends before its end marker",
     "A loader decompresses the whole kernel before it starts it (U-Boot bootm/booti, "
     "kexec-tools slurp_decompress_file, the EFI zboot stub); a stream cut short fails there "
     "or leaves the kernel incomplete.",
     "U-Boot boot/image.c image_decomp; kexec-tools kexec/kexec.c slurp_decompress_file",
     ALL_LOADERS)
rule("layer/corrupt", "error",
     "a compressed stream cannot be decoded (bad data or checksum)",
     "The loader's decompressor fails on the same bytes, so the kernel is never placed.",
     "RFC 1952 (gzip CRC32/ISIZE); xz, zstd and lz4 frame checksums",
     ALL_LOADERS)
rule("layer/decompression-limit", "error",
     "decoding stopped at kimage's cap on output size or compression ratio",
     "kimage bounds every decoder (default 64 MiB of output and a 256:1 ratio once past "
     "4 MiB): a decompression bomb or an absurdly large payload stops the chain here, and "
     "kimage can vouch for nothing beyond. A real kernel larger than the cap needs a larger "
     "limit.",
     "validator/io/limits.py (Limits.max_decompressed, max_ratio); README 'Layers'",
     ())
rule("layer/decoded-in-part", "info",
     "a stream was decoded only in part: the rest would take kimage past its memory cap",
     "kimage lets the decoders of one chain hold 36 MiB (Limits.max_decoder_memory) so that "
     "its memory stays under 64 MiB on any input. A zstd stream from `zstd -22 --ultra` "
     "(the kernel's zstd22, EFI zboot) declares a 128 MiB window, which fills as far as the "
     "kernel is long: a kernel over about 33 MiB cannot be decoded whole within the cap. "
     "The header and what was decoded are judged; the stream's end marker, checksum and "
     "length are not checked, and nothing depending on the decoded length is claimed. "
     "This is a limit of kimage, not a defect of the image.",
     "Linux scripts/Makefile.lib cmd_zstd22; RFC 8878 section 3.1.1.1.2 (Window_Size)",
     ())
rule("layer/decoder-memory-limit", "error",
     "a stream needs a larger decoder history window than kimage holds",
     "An LZ decoder keeps the last window (zstd) or dictionary (xz, lzma) bytes it produced, "
     "up to the size the stream's header declares, for back-references; a block codec (lz4, "
     "bzip2) holds a whole block. kimage lets the decoders of one chain hold 36 MiB in all, "
     "their windows and its own buffers (Limits.max_decoder_memory), and refuses a declared "
     "window above 128 MiB outright, so that memory stays under 64 MiB whatever the input; "
     "a stream whose header declares more than 128 MiB, or whose decoder cannot work in "
     "the room left, stops here and kimage vouches for nothing beyond. No kernel build "
     "asks for that much: the kernel's xz dictionary is 32 MiB, its zstd22 window 128 MiB "
     "(decoded in part past the cap: layer/decoded-in-part).",
     "Linux scripts/xz_wrap.sh; scripts/Makefile.lib cmd_zstd22_with_size; RFC 8878 "
     "section 3.1.1.1.2 (Window_Size); xz file format 1.1.0 section 5.3.1 (LZMA2)",
     ())
rule("layer/unsupported-compression", "error",
     "the kernel is compressed with a codec kimage cannot decode here",
     "Without decoding the stream kimage cannot reach the kernel header, so it cannot vouch "
     "for the image. lzo needs the python-lzo module, which has no wheel for this platform.",
     "U-Boot include/image.h IH_COMP_*; Linux scripts/Makefile.lib cmd_lzo",
     ())
rule("layer/lying-size", "error",
     "a declared size or offset disagrees with the data it describes",
     "A container or stream states a size (uImage ih_size, Android kernel_size, zboot payload "
     "size, ar/tar member size, gzip ISIZE, zstd/lz4 content size) that points past the end "
     "of the file or differs from what the data decodes to; loaders that trust the field read "
     "garbage or refuse the image.",
     "U-Boot include/image.h; AOSP bootimg.h; drivers/firmware/efi/libstub/zboot-header.S",
     ALL_LOADERS)
