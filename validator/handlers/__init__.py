"""One handler per header format: decode the spec's fields, say what they mean, derive facts.

A handler parses with the code generated from the spec (``validator._kaitai``; the
construct twins in ``validator.formats`` parse and build the same fields and serve the
tests, strategies and fuzzers); it judges nothing (rules do), except that it reports a
header it cannot decode at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from validator.model import Field, Finding


@dataclass
class Decoded:
    header: dict = field(default_factory=dict)
    derived: dict = field(default_factory=dict)
    fields: list[Field] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def human_size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def kaitai_parse(cls, data: bytes):
    """``(object, None)`` for the generated parser ``cls`` over ``data``, or ``(None,
    error)`` when the spec rejects the bytes (a failed ``valid`` or a short read)."""
    from kaitaistruct import BytesIO, KaitaiStream, KaitaiStructError

    try:
        return cls(KaitaiStream(BytesIO(data))), None
    except (KaitaiStructError, EOFError) as exc:
        return None, exc
