"""The rule registry: stable IDs, severities, rationale and references.

The primitives (``Rule``, ``rule``, ``finding``, ``RULES``) are declared in the leaf
``validator.catalogue`` and re-exported here; this module knows which modules declare
rules and looks names up among them.
"""

from __future__ import annotations

from validator.catalogue import ALL_LOADERS, RULES, Rule, finding, rule  # noqa: F401

#: The checks of every image, whatever decoded it.
LAYER_MODULE = "validator.rules.layer"
#: The cross-format check modules each of whose checks needs something given beside the
#: image (a config, a System.map or a target): imported only when something is.
GIVEN_MODULES = ("validator.rules.config", "validator.rules.symbols",
                 "validator.rules.target", "validator.rules.x86_build",
                 "validator.rules.riscv_build")
_ORDER: dict = {}


def check_modules() -> tuple[str, ...]:
    """Modules whose checks ``kimage check`` runs, in the order their findings are
    reported: the layer checks, each format's ``rules`` (the format registry's order),
    then the cross-format checks. validator.rules.engine imports those an image needs."""
    from validator import formats

    key = tuple(formats.FORMATS)
    if key not in _ORDER:
        _ORDER.clear()
        _ORDER[key] = (LAYER_MODULE, *formats.parts("rules"), *GIVEN_MODULES)
    return _ORDER[key]


#: Modules outside the format registry that declare rules (preflight and patch bring the
#: construct twins, so a name lookup imports them last).
_CORE_MODULES = ("validator.checker", "validator.rules.engine")
#: preflight's and patch's rules, declared in one table: their steps' modules bring the
#: host model (and dataclasses with inspect, 110 M instructions) that a listing or SARIF
#: does not need.
_KDUMP_MODULES = ("validator.kdump.rules",)


def rule_modules() -> tuple[str, ...]:
    """Modules that declare rules, imported by ``load_all`` (for listing and SARIF): the
    check path's, every registered format's decoder, then preflight's and patch's."""
    from validator import formats

    return (*_CORE_MODULES, *check_modules(), "validator.pipeline",
            *formats.parts("decoder"), *_KDUMP_MODULES)


def load_all() -> dict[str, Rule]:
    """Import every module that declares rules; return the registry."""
    from validator import import_module

    for name in rule_modules():
        import_module(name)
    return RULES


# --- looking rules up by what a user wrote (--select, --ignore, [tool.kimage]) ---------

#: What matches every rule in a selection.
EVERY_RULE = ("ALL", "*")

def _lookup_stages():
    """Modules imported in turn until a name is found: the check path's own first, the
    wrappers' next, preflight and patch (which bring the construct twins) only when the
    name is in none of those; so a valid name costs the check path nothing."""
    every = rule_modules()
    return ((*_CORE_MODULES, *check_modules()),
            tuple(m for m in every if m not in _KDUMP_MODULES), every)


def _names_now(exact: bool) -> set[str]:
    names = set(RULES)
    if not exact:
        spaces = {rule_id.split("/", 1)[0] for rule_id in RULES}
        names |= spaces | {f"{space}/" for space in spaces}
    return names


def is_known(pattern: str, exact: bool = False) -> bool:
    """Is ``pattern`` a rule ID, or (unless ``exact``) a namespace such as ``arm64`` or
    ``arm64/``, or ALL / *?"""
    from validator import import_module

    pattern = pattern.strip()
    if not exact and pattern in EVERY_RULE:
        return True
    for stage in _lookup_stages():
        for name in stage:
            import_module(name)
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
