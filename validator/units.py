"""Sizes as people read them (one formatter for every report and message)."""

from __future__ import annotations


def human_size(n: int) -> str:
    """``32956352`` -> ``31.4 MiB``; below 1 KiB, ``N bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"
