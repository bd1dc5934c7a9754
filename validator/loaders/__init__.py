"""Per-loader verdicts: would this loader accept the image, and which findings decide it.

One module per real loader. Each declares ``NAME``, ``VERSIONS`` (what was read or run),
``RELEASES`` (the releases modelled, oldest first: (version, upstream tag or commit,
"run" when loadertruth runs that release here, else "read")), ``applies(ctx)`` (does the
loader handle this kind of kernel at all), ``REJECTS`` (the rule IDs whose findings make
that loader refuse the image at every release, each with the loader code that does it),
optionally ``REJECTS_BY_VERSION`` ({rule ID: (first, last, note)}: refused only from
``first`` to ``last``, inclusive, None for open) and, where a loader's behaviour depends on
more than findings, ``special(ctx, version)`` returning extra (rule ID or None, note,
rejects) entries for that release.
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

    __slots__ = ("loader", "verdict", "reasons", "notes", "why", "version", "by_version")

    def __init__(self, loader: str, verdict: str, reasons: list[str] | None = None,
                 notes: list[str] | None = None, version: str | None = None) -> None:
        self.loader, self.verdict = loader, verdict
        self.reasons = [] if reasons is None else reasons
        self.notes = [] if notes is None else notes
        self.why: dict[str, str] = {}  # rule ID -> the loader's own note, for ``unreported``
        self.version = version  # the release judged
        #: releases (oldest first) whose verdict differs from this one, as ranges; None
        #: when one release was asked for
        self.by_version: list[VersionRange] | None = []

    def __eq__(self, other: object) -> bool:
        return type(other) is Verdict and (self.loader, self.to_dict()) == (
            other.loader, other.to_dict())

    __hash__ = None

    def __repr__(self) -> str:
        return f"Verdict({self.loader!r}, {self.verdict!r}, {self.reasons!r})"

    def to_dict(self) -> dict:
        out = {"verdict": self.verdict, "reasons": self.reasons, "notes": self.notes,
               "version": self.version}
        if self.by_version is not None:
            out["by_version"] = [r.to_dict() for r in self.by_version]
        return out


class VersionRange:
    """Releases ``first`` to ``last`` (modelled releases, inclusive) that share a verdict."""

    __slots__ = ("first", "last", "verdict")

    def __init__(self, first: str, last: str, verdict: Verdict) -> None:
        self.first, self.last, self.verdict = first, last, verdict

    def to_dict(self) -> dict:
        v = self.verdict
        return {"from": self.first, "to": self.last, "verdict": v.verdict,
                "reasons": v.reasons, "notes": v.notes}


class LoaderSpecError(ValueError):
    """A ``NAME[@VERSION]`` that names no modelled loader or release."""


def version_key(version: str) -> tuple:
    """"2.0.29" -> (2, 0, 29); "2025.01" -> (2025, 1); non-numeric parts sort first."""
    return tuple(int(p) if p.isascii() and p.isdigit() else -1
                 for p in version.replace("-", ".").split("."))


def at_least(version: str, first: str) -> bool:
    return version_key(version) >= version_key(first)


def releases(module) -> list[str]:
    return [r[0] for r in module.RELEASES]


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"kexec-tools@2.0.29"`` -> ("kexec-tools", "2.0.29"), checked against the models.

    A version between two modelled releases is judged as the older one (nothing changed
    in between that the model knows of); one before the oldest modelled is refused."""
    name, _, version = spec.partition("@")
    by_name = {m.NAME: m for m in modules()}
    module = by_name.get(name)
    if module is None:
        raise LoaderSpecError(f"unknown loader {name}; expected {', '.join(by_name)}")
    if not _:
        return name, None
    known = releases(module)
    plain = version.replace(".", "").replace("-", "")
    if not (plain.isascii() and plain.isalnum() and version[:1].isdigit()):
        raise LoaderSpecError(f"{spec}: expected {name}@VERSION, e.g. {name}@{known[-1]}")
    if version_key(version) < version_key(known[0]):
        raise LoaderSpecError(f"{spec}: {name} is modelled from {known[0]} "
                              f"(releases {', '.join(known)})")
    return name, version


def release_for(module, version: str) -> str:
    """The modelled release that stands for ``version``: the newest one not after it."""
    return [r for r in releases(module) if version_key(r) <= version_key(version)][-1]


def rejects_at(module, version: str) -> dict[str, str]:
    """{rule ID: note} of the findings that make ``module`` refuse at ``version``."""
    out = dict(module.REJECTS)
    for rule_id, (first, last, note) in getattr(module, "REJECTS_BY_VERSION", {}).items():
        if (first is None or at_least(version, first)) and (
                last is None or at_least(last, version)):
            out[rule_id] = note
    return out


def rejects_any_version(module) -> set[str]:
    """Rule IDs ``module``'s tables refuse for at one release or more."""
    return set(module.REJECTS) | set(getattr(module, "REJECTS_BY_VERSION", {}))


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


def judge(ctx: Context, findings: list[Finding], only=None) -> dict:
    """``{loader name: Verdict}`` for every loader (or those in ``only``: names, or
    ``NAME@VERSION`` specs that judge that release).

    Without a version a loader is judged at its newest modelled release, and the verdict's
    ``by_version`` holds the ranges of older releases whose verdict differs. A file in
    which no kernel was found (format "unknown", no ELF with a PT_LOAD that an ELF loader
    would load, no kernel header cut short) is refused by every loader that applies, for
    the errors that say why. Every reason a verdict names is a finding: a rule a loader's
    ``special`` names that no check reported is returned by ``unreported`` for the caller
    to report.
    """
    wanted: dict[str, str | None] = {}
    for spec in only or ():
        name, version = parse_spec(spec)
        wanted[name] = version
    out = {}
    found = {f.rule for f in findings}
    elf = ctx.layer("elf")
    no_kernel = ctx.result.format == "unknown" and not (elf and elf.get("loads")) and not (
        found & CUT_HEADERS)
    why_none = sorted({f.rule for f in findings if f.severity == "error"}) or [
        "layer/unknown-format"]
    for module in modules():
        if wanted and module.NAME not in wanted:
            continue
        version = wanted.get(module.NAME)
        newest = releases(module)[-1]
        if not module.applies(ctx):
            out[module.NAME] = Verdict(module.NAME, "n/a",
                                       notes=[getattr(module, "NOT_APPLICABLE", "")],
                                       version=version or newest)
            if version is not None:
                out[module.NAME].by_version = None
            continue
        if no_kernel:
            out[module.NAME] = Verdict(module.NAME, "reject", list(why_none),
                                       ["no kernel image was found in the file"],
                                       version=version or newest)
            if version is not None:
                out[module.NAME].by_version = None
            continue
        if version is not None:
            v = _judge_release(ctx, module, found, release_for(module, version))
            v.version, v.by_version = version, None
            out[module.NAME] = v
            continue
        per = [(r, _judge_release(ctx, module, found, r)) for r in releases(module)]
        v = out[module.NAME] = per[-1][1]
        v.by_version = _ranges(per, v)
    return out


def _judge_release(ctx: Context, module, found: set[str], release: str) -> Verdict:
    table = rejects_at(module, release)
    reasons = sorted(rule for rule in found if rule in table)
    notes, why = [], {}
    special = getattr(module, "special", None)
    for rule_id, note, rejects in (special(ctx, release) if special else ()):
        if rejects and rule_id and rule_id not in reasons:
            reasons.append(rule_id)
            why[rule_id] = note
        notes.append(note)
    v = Verdict(module.NAME, "reject" if reasons else "accept", reasons,
                [n for n in notes if n], version=release)
    v.why = why
    return v


def _ranges(per: list, newest: Verdict) -> list[VersionRange]:
    """Runs of consecutive releases with the same verdict and reasons, for the runs that
    differ from the newest release's."""
    out: list[VersionRange] = []
    previous: tuple | None = None  # (verdict, reasons) of the release before
    for release, v in per:
        key = (v.verdict, v.reasons)
        if out and key == previous and key != (newest.verdict, newest.reasons):
            out[-1].last = release
        elif key != (newest.verdict, newest.reasons):
            out.append(VersionRange(release, release, v))
        previous = key
    return out


def unreported(verdicts: dict, findings: list[Finding]) -> list[Finding]:
    """Findings for the reasons verdicts name that no check reported (a loader's own
    refusal, such as QEMU not unwrapping a uImage of another type), one per rule, its
    message the loaders' notes and its ``loaders`` the loaders that refuse for it."""
    from validator.rules.registry import finding

    found = {f.rule for f in findings}
    by_rule: dict[str, list[str]] = {}
    why: dict[tuple[str, str], str] = {}
    for name, v in verdicts.items():
        for each in (v, *(r.verdict for r in v.by_version or ())):
            for rule_id in each.reasons:
                if rule_id in found:
                    continue
                if name not in by_rule.setdefault(rule_id, []):
                    by_rule[rule_id].append(name)
                if rule_id in each.why:
                    why.setdefault((name, rule_id), each.why[rule_id])
    out = []
    for rule_id, names in by_rule.items():
        notes = [f"{n}: {why[n, rule_id]}" for n in names if (n, rule_id) in why]
        f = finding(rule_id, "; ".join(notes) or f"refused by {', '.join(names)}")
        f.loaders = names
        out.append(f)
    return out
