"""Per-loader verdicts: would this loader accept the image, and which findings decide it.

One module per real loader. Each declares ``NAME``, ``VERSIONS`` (what was read or run),
``applies(ctx)`` (does the loader handle this kind of kernel at all), ``REJECTS`` (the
rule IDs whose findings make that loader refuse the image, each with the loader code that
does it) and, where a loader's behaviour depends on more than findings, ``special(ctx)``
returning extra (rule ID or None, note, rejects) entries.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from validator.model import Finding
    from validator.rules.engine import Context

LOADER_MODULES = ("kexec_tools", "kexec_file", "u_boot", "grub", "efi", "qemu")


class Verdict:
    """One loader's verdict: "accept", "reject" or "n/a"; ``reasons`` are the rule IDs
    that decide a rejection."""

    __slots__ = ("loader", "verdict", "reasons", "notes")

    def __init__(self, loader: str, verdict: str, reasons: list[str] | None = None,
                 notes: list[str] | None = None) -> None:
        self.loader, self.verdict = loader, verdict
        self.reasons = [] if reasons is None else reasons
        self.notes = [] if notes is None else notes

    def __eq__(self, other: object) -> bool:
        return type(other) is Verdict and (self.loader, self.to_dict()) == (
            other.loader, other.to_dict())

    __hash__ = None

    def __repr__(self) -> str:
        return f"Verdict({self.loader!r}, {self.verdict!r}, {self.reasons!r})"

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "reasons": self.reasons, "notes": self.notes}


_MODULES: list = []


def modules():
    """The loader modules, imported once (lint asks for them for every image)."""
    if not _MODULES:
        _MODULES.extend(importlib.import_module(f"validator.loaders.{name}")
                        for name in LOADER_MODULES)
    return _MODULES


def names() -> list[str]:
    return [m.NAME for m in modules()]


def judge(ctx: Context, findings: list[Finding], only: set[str] | None = None) -> dict:
    """``{loader name: Verdict}`` for every loader (or those in ``only``)."""
    out = {}
    found = {f.rule for f in findings}
    for module in modules():
        if only and module.NAME not in only:
            continue
        if not module.applies(ctx):
            out[module.NAME] = Verdict(module.NAME, "n/a",
                                       notes=[getattr(module, "NOT_APPLICABLE", "")])
            continue
        reasons = sorted(rule for rule in found if rule in module.REJECTS)
        notes = []
        special = getattr(module, "special", None)
        for rule_id, note, rejects in (special(ctx) if special else ()):
            if rejects and rule_id and rule_id not in reasons:
                reasons.append(rule_id)
            notes.append(note)
        out[module.NAME] = Verdict(module.NAME, "reject" if reasons else "accept", reasons,
                                   [n for n in notes if n])
    return out
