#!/usr/bin/env python3
"""atheris harness: the whole check (``checker.check_image``: layers, handlers, every
rule, the loader verdicts). Only ``InputError`` may escape, and a check that raised
inside kimage (a ``kimage/internal-error`` finding) counts as a crash too."""

import fuzzlib

with fuzzlib.instrumented():
    from validator import checker
    from validator.source import InputError

SCRATCH = fuzzlib.Scratch()
OPTIONS = checker.Options()


def TestOneInput(data: bytes) -> None:
    path = SCRATCH.write(data)
    try:
        result = checker.check_image(path, OPTIONS)
    except InputError:
        return
    for f in result.findings:
        if f.rule == "kimage/internal-error":
            raise RuntimeError(f"kimage/internal-error: {f.message}")


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, seeds=("all",))
