"""Layers: what a loader unwraps before it reads a header.

A layer recognises its wrapper by magic, reports what it found (a ``Layer``) and hands
on a view of the bytes a loader would place in memory (``validator.io``). A layer knows
nothing of the header formats above it.
"""

from __future__ import annotations

from validator.io.decoded import Context, DecodedView, DecodeError
from validator.io.limits import Limits
from validator.io.views import SliceView, View, ViewFile
from validator.model import Finding, Layer

__all__ = ["Context", "DecodeError", "DecodedView", "Limits", "SliceView", "Unwrapped", "View",
           "ViewFile"]


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
