"""Bounded line-by-line reading of a text companion (a .config, a System.map).

``lines`` yields ``(number, line)`` for every line of a binary stream, at most
``max_line`` bytes a line and ``max_size`` bytes in all; an over-long line is yielded
as ``(number, None)`` and skipped to its end without keeping it. A NUL byte or more
than ``max_size`` bytes raises ``error`` with one line that says the file is not
``noun``. Memory stays at one line whatever the file holds.
"""

from __future__ import annotations


def lines(stream, name: str, noun: str, error: type[Exception], max_size: int,
          max_line: int, too_big: str | None = None):
    too_big = too_big or f"{name}: larger than {max_size >> 20} MiB, not {noun}"
    total = number = 0
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return
        number += 1
        total += len(line)
        if total > max_size:
            raise error(too_big)
        if b"\0" in line:
            raise error(f"{name}: binary data (a NUL byte on line {number}), not {noun}")
        if len(line) > max_line and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of it
                line = stream.readline(max_line + 1)
                total += len(line)
                if total > max_size:
                    raise error(too_big)
            yield number, None
            continue
        yield number, line
