"""Layers: what a loader unwraps before it reads a header.

A layer recognises its wrapper by magic, reports what it found (a ``Layer``) and hands
on a ``View`` of the bytes a loader would place in memory. A layer knows nothing of
the header formats above it.
"""

from __future__ import annotations

from dataclasses import dataclass

from validator.source import Source


@dataclass
class View:
    """A window on a source: ``length`` bytes from ``base``."""

    source: Source
    base: int
    length: int

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset >= self.length:
            return b""
        length = min(length, self.length - offset)
        return self.source.read(self.base + offset, length)

    @classmethod
    def whole(cls, source: Source) -> View:
        return cls(source, 0, source.size)
