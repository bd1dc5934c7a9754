"""The report's data model: what every stage hands to the next.

Plain classes with ``__slots__``: the check path is start-up-time sensitive and
``dataclasses`` alone (it imports ``inspect``) costs about as much as the interpreter's
own start (bench/coldstart.py).
"""

from __future__ import annotations

SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


class Field:
    """One decoded header field, for display: where it is, what it holds, what it means.

    name: dotted path as in the spec, e.g. "flags.page_size"; offset: from the header
    start; size: in bytes (bit fields give the size of the word they live in); raw: the
    stored value (None for derived fields); value: the decoded value as in the JSON
    header; bits: "0", "1-2", ... for bit fields.
    """

    __slots__ = ("name", "offset", "size", "raw", "value", "meaning", "bits")

    def __init__(self, name: str, offset: int, size: int, raw: int | bytes | None,
                 value: object, meaning: str = "", bits: str | None = None) -> None:
        self.name, self.offset, self.size, self.raw = name, offset, size, raw
        self.value, self.meaning, self.bits = value, meaning, bits

    def _key(self) -> tuple:
        return (self.name, self.offset, self.size, self.raw, self.value, self.meaning,
                self.bits)

    def __eq__(self, other: object) -> bool:
        return type(other) is Field and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return _repr(self)


class Finding:
    """One rule's finding. ``consequences``: findings that follow from this one (the root
    cause) and are reported folded under it instead of beside it, as
    ``[{"rule", "message"}]``."""

    __slots__ = ("rule", "severity", "message", "offset", "field", "loaders", "consequences")

    def __init__(self, rule: str, severity: str, message: str, offset: int | None = None,
                 field: str | None = None, loaders: list[str] | None = None,
                 consequences: list[dict] | None = None) -> None:
        self.rule, self.severity, self.message = rule, severity, message
        self.offset, self.field = offset, field
        self.loaders = [] if loaders is None else loaders
        self.consequences = [] if consequences is None else consequences

    def __eq__(self, other: object) -> bool:
        return type(other) is Finding and self.to_dict() == other.to_dict()

    __hash__ = None  # mutable (a selection may change the severity)

    def __repr__(self) -> str:
        return _repr(self)

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "offset": self.offset,
            "field": self.field,
            "loaders": list(self.loaders),
            **({"consequences": list(self.consequences)} if self.consequences else {}),
        }


class Layer:
    """One wrapper a loader takes off: its kind and what it found."""

    __slots__ = ("kind", "offset", "details")

    def __init__(self, kind: str, offset: int, details: dict | None = None) -> None:
        self.kind = kind
        self.offset = offset  # where the layer starts in its parent
        self.details = {} if details is None else details

    def __eq__(self, other: object) -> bool:
        return type(other) is Layer and self.to_dict() == other.to_dict()

    __hash__ = None

    def __repr__(self) -> str:
        return _repr(self)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "offset": self.offset, **self.details}


class ImageResult:
    """Everything known about one image, filled in stage by stage.

    header_offset: file offset of the header when no layer transforms bytes;
    payload_size: bytes a loader places (the innermost view's length); derived: values
    read beside the header, not in it; companions: files found beside the kernel inside
    a wrapper (a .deb's config), name -> bytes, not part of the report; decoded_by: the
    format packages (``validator.formats.FORMATS``) that took a layer off or decoded the
    header, in order, not part of the report (a format's rules judge only what it decoded).
    """

    __slots__ = ("path", "format", "layers", "header_offset", "file_size", "payload_size",
                 "header", "derived", "fields", "facts", "findings", "loaders",
                 "companions", "decoded_by")

    def __init__(self, path: str, format: str = "unknown", layers: list[Layer] | None = None,
                 header_offset: int | None = None, file_size: int | None = None,
                 payload_size: int | None = None, header: dict | None = None,
                 derived: dict | None = None, fields: list[Field] | None = None,
                 facts: dict | None = None, findings: list[Finding] | None = None,
                 loaders: dict | None = None,
                 companions: dict[str, bytes] | None = None) -> None:
        self.path, self.format = path, format
        self.layers = [] if layers is None else layers
        self.header_offset, self.file_size, self.payload_size = (
            header_offset, file_size, payload_size)
        self.header = {} if header is None else header
        self.derived = {} if derived is None else derived
        self.fields = [] if fields is None else fields
        self.facts = {} if facts is None else facts
        self.findings = [] if findings is None else findings
        self.loaders = {} if loaders is None else loaders
        self.companions = {} if companions is None else companions
        self.decoded_by: list[str] = []

    def __repr__(self) -> str:
        return f"ImageResult(path={self.path!r}, format={self.format!r}, " \
               f"findings={len(self.findings)})"

    def reported_rules(self) -> set[str]:
        """Every rule reported for the image, those folded under a root cause included."""
        return {f.rule for f in self.findings} | {
            c["rule"] for f in self.findings for c in f.consequences}

    @property
    def verdict(self) -> str:
        worst = max((severity_rank(f.severity) for f in self.findings), default=-1)
        if worst >= severity_rank("error"):
            return "fail"
        if worst >= severity_rank("warning"):
            return "warn"
        return "pass"


def _repr(obj) -> str:
    inner = ", ".join(f"{name}={getattr(obj, name)!r}" for name in obj.__slots__)
    return f"{type(obj).__name__}({inner})"
