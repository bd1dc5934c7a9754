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

    __slots__ = ("loader", "verdict", "reasons", "notes", "why")

    def __init__(self, loader: str, verdict: str, reasons: list[str] | None = None,
                 notes: list[str] | None = None) -> None:
        self.loader, self.verdict = loader, verdict
        self.reasons = [] if reasons is None else reasons
        self.notes = [] if notes is None else notes
        self.why: dict[str, str] = {}  # rule ID -> the loader's own note, for ``unreported``

    def __eq__(self, other: object) -> bool:
        return type(other) is Verdict and (self.loader, self.to_dict()) == (
            other.loader, other.to_dict())

    __hash__ = None

    def __repr__(self) -> str:
        return f"Verdict({self.loader!r}, {self.verdict!r}, {self.reasons!r})"

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "reasons": self.reasons, "notes": self.notes}


#: A kernel header that the file ends inside: loaders that never see the file's size
#: start it (their tables and specials decide), so it is not "no kernel".
CUT_HEADERS = frozenset({"arm64/truncated-header", "ppc64/head-truncated"})

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
    """``{loader name: Verdict}`` for every loader (or those in ``only``).

    A file in which no kernel was found (format "unknown", no ELF with a PT_LOAD that an
    ELF loader would load, no kernel header cut short) is refused by every loader that
    applies, for the errors that say why. Every reason a verdict names is a finding: a
    rule a loader's ``special`` names that no check reported is returned by
    ``unreported`` for the caller to report.
    """
    out = {}
    found = {f.rule for f in findings}
    elf = ctx.layer("elf")
    no_kernel = ctx.result.format == "unknown" and not (elf and elf.get("loads")) and not (
        found & CUT_HEADERS)
    why_none = sorted({f.rule for f in findings if f.severity == "error"}) or [
        "layer/unknown-format"]
    for module in modules():
        if only and module.NAME not in only:
            continue
        if not module.applies(ctx):
            out[module.NAME] = Verdict(module.NAME, "n/a",
                                       notes=[getattr(module, "NOT_APPLICABLE", "")])
            continue
        if no_kernel:
            out[module.NAME] = Verdict(module.NAME, "reject", list(why_none),
                                       ["no kernel image was found in the file"])
            continue
        reasons = sorted(rule for rule in found if rule in module.REJECTS)
        notes, why = [], {}
        special = getattr(module, "special", None)
        for rule_id, note, rejects in (special(ctx) if special else ()):
            if rejects and rule_id and rule_id not in reasons:
                reasons.append(rule_id)
                why[rule_id] = note
            notes.append(note)
        v = out[module.NAME] = Verdict(module.NAME, "reject" if reasons else "accept",
                                       reasons, [n for n in notes if n])
        v.why = why
    return out


def unreported(verdicts: dict, findings: list[Finding]) -> list[Finding]:
    """Findings for the reasons verdicts name that no check reported (a loader's own
    refusal, such as QEMU not unwrapping a uImage of another type), one per rule, its
    message the loaders' notes and its ``loaders`` the loaders that refuse for it."""
    from validator.rules.registry import finding

    found = {f.rule for f in findings}
    by_rule: dict[str, list[str]] = {}
    for name, v in verdicts.items():
        for rule_id in v.reasons:
            if rule_id not in found:
                by_rule.setdefault(rule_id, []).append(name)
    out = []
    for rule_id, names in by_rule.items():
        notes = [f"{n}: {verdicts[n].why[rule_id]}" for n in names
                 if rule_id in verdicts[n].why]
        f = finding(rule_id, "; ".join(notes) or f"refused by {', '.join(names)}")
        f.loaders = names
        out.append(f)
    return out
