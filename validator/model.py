"""The report's data model: what every stage hands to the next."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Field:
    """One decoded header field, for display: where it is, what it holds, what it means."""

    name: str  # dotted path as in the spec, e.g. "flags.page_size"
    offset: int  # from the header start
    size: int  # in bytes; bit fields give the size of the word they live in
    raw: int | bytes | None  # the stored value (None for derived fields)
    value: Any  # the decoded value as in the JSON header
    meaning: str = ""
    bits: str | None = None  # "0", "1-2", ... for bit fields


@dataclass
class Finding:
    rule: str
    severity: str
    message: str
    offset: int | None = None
    field: str | None = None
    loaders: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "offset": self.offset,
            "field": self.field,
            "loaders": list(self.loaders),
        }


@dataclass
class Layer:
    """One wrapper a loader takes off: its kind and what it found."""

    kind: str
    offset: int  # where the layer starts in its parent
    details: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "offset": self.offset, **self.details}


@dataclass
class ImageResult:
    path: str
    format: str = "unknown"
    layers: list[Layer] = dataclasses.field(default_factory=list)
    header_offset: int | None = None  # file offset of the header when no layer transforms bytes
    file_size: int | None = None  # size of the input file
    payload_size: int | None = None  # bytes a loader places: the innermost view's length
    header: dict = dataclasses.field(default_factory=dict)
    derived: dict = dataclasses.field(default_factory=dict)  # read beside the header, not in it
    fields: list[Field] = dataclasses.field(default_factory=list)
    facts: dict = dataclasses.field(default_factory=dict)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    loaders: dict = dataclasses.field(default_factory=dict)
    #: files found beside the kernel inside a wrapper (a .deb's config): name -> bytes;
    #: not part of the report
    companions: dict[str, bytes] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def verdict(self) -> str:
        worst = max((severity_rank(f.severity) for f in self.findings), default=-1)
        if worst >= severity_rank("error"):
            return "fail"
        if worst >= severity_rank("warning"):
            return "warn"
        return "pass"
