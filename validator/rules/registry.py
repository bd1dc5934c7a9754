"""The rule registry: stable IDs, severities, rationale and references.

A rule ID never changes meaning once released; new behaviour gets a new ID. Each
module that reports findings declares its rules here through ``rule``.
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

#: Modules whose checks ``kimage check`` runs (validator.rules.engine imports them).
CHECK_MODULES = (
    "validator.rules.layer",
    "validator.rules.arm64",
    "validator.rules.ppc64",
    "validator.rules.config",
    "validator.rules.symbols",
    "validator.rules.target",
)

#: Modules that declare rules, imported by ``load_all`` (for listing and SARIF).
RULE_MODULES = (
    "validator.checker",
    "validator.rules.engine",
    *CHECK_MODULES,
    "validator.pipeline",
    "validator.layers.elf",
    "validator.layers.compression",
    "validator.layers.pe",
    "validator.layers.zboot",
    "validator.layers.uimage",
    "validator.layers.android",
    "validator.layers.deb",
    "validator.handlers.arm64_image",
    "validator.handlers.ppc64_head",
    "validator.preflight",
    "validator.patch",
)


def load_all() -> dict[str, Rule]:
    """Import every module that declares rules; return the registry."""
    import importlib

    for name in RULE_MODULES:
        importlib.import_module(name)
    return RULES
