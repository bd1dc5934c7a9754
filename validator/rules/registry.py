"""The rule registry: stable IDs, severities, rationale and references.

The primitives (``Rule``, ``rule``, ``finding``, ``RULES``) are declared in the leaf
``validator.catalogue`` and re-exported here; this module knows which modules declare
rules and looks names up among them.
"""

from __future__ import annotations

from validator.catalogue import ALL_LOADERS, RULES, Rule, finding, rule  # noqa: F401

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


# --- looking rules up by what a user wrote (--select, --ignore, [tool.kimage]) ---------

#: What matches every rule in a selection.
EVERY_RULE = ("ALL", "*")

#: Modules imported in turn until a name is found: the check path's own first, the
#: wrappers' next, preflight and patch (which bring the construct twins) only when the
#: name is in none of those; so a valid name costs the check path nothing.
_LOOKUP_STAGES = (("validator.checker", "validator.rules.engine", *CHECK_MODULES),
                  tuple(m for m in RULE_MODULES if m not in ("validator.preflight",
                                                             "validator.patch")),
                  RULE_MODULES)


def _names_now(exact: bool) -> set[str]:
    names = set(RULES)
    if not exact:
        spaces = {rule_id.split("/", 1)[0] for rule_id in RULES}
        names |= spaces | {f"{space}/" for space in spaces}
    return names


def is_known(pattern: str, exact: bool = False) -> bool:
    """Is ``pattern`` a rule ID, or (unless ``exact``) a namespace such as ``arm64`` or
    ``arm64/``, or ALL / *?"""
    import importlib

    pattern = pattern.strip()
    if not exact and pattern in EVERY_RULE:
        return True
    for stage in _LOOKUP_STAGES:
        for name in stage:
            importlib.import_module(name)
        if pattern in _names_now(exact):
            return True
    return False


def closest(pattern: str, exact: bool = False) -> str | None:
    """The rule ID (or namespace) nearest to a misspelt ``pattern``, as ruff suggests."""
    import difflib

    load_all()
    names = sorted(_names_now(exact))
    pattern = pattern.strip()
    for candidate in (pattern, pattern.lower()):
        match = difflib.get_close_matches(candidate, names, n=1, cutoff=0.6)
        if match:
            return match[0]
    return None


def unknown_message(pattern: str, exact: bool = False) -> str:
    """``unknown rule 'x'; did you mean 'y'?`` (or where to find the list)."""
    near = closest(pattern, exact)
    hint = f"did you mean {near!r}?" if near else "`kimage rules` lists them"
    return f"unknown rule {pattern.strip()!r}; {hint}"


def check_patterns(patterns, where: str, exact: bool = False) -> str | None:
    """The error for the first of ``patterns`` that names no rule (``where``: the option
    or setting it came from), or None when every one does."""
    for pattern in patterns:
        if not is_known(pattern, exact):
            return f"{where}: {unknown_message(pattern, exact)}"
    return None
