#!/usr/bin/env python3
"""atheris harness: the ppc64 head parsers, the construct twin and the generated Kaitai
parser, on the same 256 bytes: same rejections, same fields, exact round trip."""

import fuzzlib

with fuzzlib.instrumented():
    from validator.differential import ppc64_agree


def TestOneInput(data: bytes) -> None:
    ppc64_agree(data[:256 + 8])


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, seeds=("ppc64-head",))
