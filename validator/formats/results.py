"""What a format's decoder hands the pipeline: a wrapper's ``Unwrapped`` (its layer and
the view inside) and a header's ``Decoded`` (its fields and facts); and ``kaitai_parse``,
how a header decoder runs the parser generated from its spec."""

from __future__ import annotations

from validator.model import Layer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from validator.model import Field, Finding


class Unwrapped:
    """What a wrapper layer hands back: its ``Layer``, the next view (None: the chain
    stops), findings, facts it establishes (e.g. ``compression``) and companion files
    found beside the kernel (e.g. a package's ``config``: name -> bytes)."""

    __slots__ = ("layer", "view", "findings", "facts", "companions")

    def __init__(self, layer: Layer, view: object | None, findings: list[Finding] | None = None,
                 facts: dict | None = None, companions: dict[str, bytes] | None = None) -> None:
        self.layer, self.view = layer, view
        self.findings = [] if findings is None else findings
        self.facts = {} if facts is None else facts
        self.companions = {} if companions is None else companions


class Decoded:
    """What a handler hands back: the header as JSON, values read beside it, the fields
    for display (a list, or a function that makes it: the pipeline calls it only when
    the fields are shown), facts for the rules and the handler's own findings."""

    __slots__ = ("header", "derived", "fields", "facts", "findings")

    def __init__(self, header: dict | None = None, derived: dict | None = None,
                 fields: list[Field] | Callable[[], list[Field]] | None = None,
                 facts: dict | None = None,
                 findings: list[Finding] | None = None) -> None:
        self.header = {} if header is None else header
        self.derived = {} if derived is None else derived
        self.fields = [] if fields is None else fields
        self.facts = {} if facts is None else facts
        self.findings = [] if findings is None else findings


def kaitai_parse(cls, data: bytes):
    """``(object, None)`` for the generated parser ``cls`` over ``data``, or ``(None,
    error)`` when the spec rejects the bytes (a failed ``valid`` or a short read)."""
    from kaitaistruct import BytesIO, KaitaiStream, KaitaiStructError

    try:
        return cls(KaitaiStream(BytesIO(data))), None
    except (KaitaiStructError, EOFError) as exc:
        return None, exc


def fixed_header(view, size: int, what: str, cls, hex_size: bool = False):
    """A wrapper's fixed-size header read at 0 and parsed by its generated parser:
    ``(bytes, parsed, None)``, or ``(bytes, None, finding)`` with ``layer/truncated`` when
    the file holds fewer than ``size`` bytes or the spec rejects them."""
    from validator.catalogue import finding

    head = view.read(0, size)
    if len(head) < size:
        need, have = (f"{size:#x}", f"{len(head):#x}") if hex_size else (size, len(head))
        return head, None, finding("layer/truncated", f"{what} header needs {need} bytes, "
                                   f"the file has {have}", offset=len(head))
    parsed, error = kaitai_parse(cls, head)
    if error is not None:  # the probe saw the magic and the header is whole: not reached
        return head, None, finding("layer/truncated", f"{what} header: {error}", offset=0)
    return head, parsed, None
