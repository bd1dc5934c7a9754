"""What every format's ``samples`` builds from: *choices*. A ``Chooser`` answers "an
integer in this range", "one of these", "n bytes". ``RandomChooser(seed)`` answers from a
seeded ``random.Random`` (``kimage fuzz``: same seed, same bytes); ``validator.strategies``
answers from Hypothesis' ``draw`` (shrinkable property tests).

A ``Sample`` carries the bytes and ``expect``: the rule IDs kimage must report for it.
A valid sample expects only what its era implies; a near-valid one (``mutation`` set) has
one field off, one size lying or one byte of magic wrong, and expects the finding for
exactly that. A format's mutation table maps a mutation's name to (expected rule IDs,
applies to these params?); a ``Mutator`` turns a chooser into a file's new bytes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

T = TypeVar("T")

class Chooser(Protocol):
    """Where every random decision comes from."""

    def integer(self, lo: int, hi: int) -> int: ...   # lo <= n <= hi

    def choice(self, options: Sequence[T]) -> T: ...

    def boolean(self) -> bool: ...

    def binary(self, size: int) -> bytes: ...


class RandomChooser:
    """A ``Chooser`` over ``random.Random(seed)``: deterministic for a given seed."""

    def __init__(self, seed: int | str | random.Random = 0):
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def boolean(self) -> bool:
        return self.rng.getrandbits(1) == 1

    def binary(self, size: int) -> bytes:
        return self.rng.getrandbits(8 * size).to_bytes(size, "little") if size > 0 else b""


@dataclass
class Sample:
    """One generated file: what it is, its bytes, and the findings kimage must report."""

    kind: str  # a KINDS name: "arm64-image", "ppc64-elf", "zboot", "gzip", ...
    name: str  # a short slug: "v5.8-4k-le-anywhere-efi", "bad-magic", ...
    data: bytes
    expect: tuple[str, ...] = ()  # rule IDs kimage must report (any severity)
    mutation: str | None = None  # None: a valid image; else the near-valid change
    params: dict = field(default_factory=dict)  # what was drawn

    @property
    def valid(self) -> bool:
        return self.mutation is None

    def describe(self) -> dict:
        return {"kind": self.kind, "name": self.name, "valid": self.valid,
                "mutation": self.mutation, "expect": list(self.expect),
                "params": {k: v for k, v in self.params.items() if _jsonable(v)}}


def _jsonable(v) -> bool:
    return isinstance(v, (str, int, bool, type(None))) or (
        isinstance(v, (list, tuple)) and all(_jsonable(x) for x in v))


#: A mutation of a real image: chooser -> the new file bytes.
Mutator = Callable[[Chooser], bytes]
#: mutation name -> (expected rule IDs, applies to these params?)
Table = dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]]


def splice(data: bytes, offset: int, fn: Callable[[Chooser], bytes]) -> Mutator:
    def apply(c: Chooser) -> bytes:
        new = fn(c)
        return data[:offset] + new + data[offset + len(new):]
    return apply
