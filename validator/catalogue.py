"""The rule catalogue's primitives: stable IDs, severities, rationale and references.

A rule ID never changes meaning once released; new behaviour gets a new ID. Each
module that reports findings declares its rules through ``rule`` and reports them with
``finding``. This module is a leaf (it imports only the model), so that the readers,
layers and header decoders can declare rules without importing the rules stage.
"""

from __future__ import annotations

from validator.model import Finding


class Rule:
    __slots__ = ("id", "severity", "summary", "rationale", "reference", "loaders")

    def __init__(self, id: str, severity: str, summary: str, rationale: str, reference: str,
                 loaders: tuple[str, ...] = ()) -> None:
        self.id, self.severity, self.summary = id, severity, summary
        self.rationale, self.reference, self.loaders = rationale, reference, tuple(loaders)

    def __repr__(self) -> str:
        return f"Rule({self.id!r}, {self.severity!r})"


RULES: dict[str, Rule] = {}


def rule(id: str, severity: str, summary: str, rationale: str, reference: str,
         loaders: tuple[str, ...] = ()) -> Rule:
    if id in RULES:
        raise ValueError(f"rule {id} declared twice")
    RULES[id] = r = Rule(id, severity, summary, rationale, reference, loaders)
    return r


def finding(rule_id: str, message: str, offset: int | None = None,
            field: str | None = None) -> Finding:
    r = RULES[rule_id]
    return Finding(r.id, r.severity, message, offset, field, list(r.loaders))


ALL_LOADERS = ("kexec-tools", "kexec-file", "u-boot", "grub", "efi", "qemu")
