"""One handler per header format: decode the spec's fields, say what they mean, derive facts.

A handler parses with the code generated from the spec (``validator._kaitai``; the
construct twins in ``validator.formats`` parse and build the same fields and serve the
tests, strategies and fuzzers); it judges nothing (rules do), except that it reports a
header it cannot decode at all.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from validator.model import Field, Finding


class Decoded:
    """What a handler hands back: the header as JSON, values read beside it, the fields
    for display, facts for the rules and the handler's own findings."""

    __slots__ = ("header", "derived", "fields", "facts", "findings")

    def __init__(self, header: dict | None = None, derived: dict | None = None,
                 fields: list[Field] | None = None, facts: dict | None = None,
                 findings: list[Finding] | None = None) -> None:
        self.header = {} if header is None else header
        self.derived = {} if derived is None else derived
        self.fields = [] if fields is None else fields
        self.facts = {} if facts is None else facts
        self.findings = [] if findings is None else findings


from validator.units import human_size  # noqa: E402,F401 (re-exported for the handlers)


def kaitai_parse(cls, data: bytes):
    """``(object, None)`` for the generated parser ``cls`` over ``data``, or ``(None,
    error)`` when the spec rejects the bytes (a failed ``valid`` or a short read)."""
    from kaitaistruct import BytesIO, KaitaiStream, KaitaiStructError

    try:
        return cls(KaitaiStream(BytesIO(data))), None
    except (KaitaiStructError, EOFError) as exc:
        return None, exc
