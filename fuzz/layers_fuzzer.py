#!/usr/bin/env python3
"""atheris harness: the layer chain (``pipeline.analyse``: zboot, .deb, .rpm, Arch
.pkg.tar, uImage, Android boot, gzip/xz/lzma/bzip2/lz4/zstd, ELF, PE, then the header
handlers), decoding every
stream to its end (``Limits(decode_all=True)``). Only ``InputError`` (a file too short
to be an image) may escape."""

import contextlib

import fuzzlib

with fuzzlib.instrumented():
    from validator.io.limits import Limits
    from validator.pipeline import analyse
    from validator.source import InputError

SCRATCH = fuzzlib.Scratch()
LIMITS = Limits(decode_all=True)


def TestOneInput(data: bytes) -> None:
    path = SCRATCH.write(data)
    with contextlib.suppress(InputError):
        analyse(path, LIMITS)


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, seeds=("zboot", "gzip", "xz", "lzma", "bzip2", "zstd", "lz4",
                                      "lz4-frame", "uimage", "android-boot", "ppc64-elf",
                                      "arm64-elf", "efi-stub", "rpm", "archpkg"))
