#!/usr/bin/env python3
"""atheris harness: the arm64 Image header parsers, the construct twin and the
generated Kaitai parser, on the same bytes.

Either may reject an input (ConstructError, KaitaiStructError); nothing else may escape,
both must reject the same inputs, on the others they must give the same fields, and
the twin must build the bytes back (build(parse(b)) == b)."""

import fuzzlib

with fuzzlib.instrumented():
    from validator.differential import arm64_agree


def TestOneInput(data: bytes) -> None:
    arm64_agree(data[:64 + 8])


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, seeds=("arm64-image", "efi-stub"))
