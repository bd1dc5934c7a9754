"""A rule's declared ``loaders`` against the loader models that refuse for it.

For every rule in the catalogue, the loaders whose REJECTS tables (at any modelled
release: ``REJECTS`` and ``REJECTS_BY_VERSION``) name it are derived from the models and
compared with the loaders the rule declares: every derived loader must be declared, so
that JSON, SARIF and `kimage rules` never omit a loader the loaders line names. (The
other direction, a declared loader no table names, is mostly a loader's ``special``,
decided on the image — e.g. kexec-tools and layer/compressed for zstd before 2.0.31 —
and is not checked here.)
"""

from __future__ import annotations

from validator import loaders
from validator.rules import registry


def _catalogue() -> dict:
    return registry.load_all()


def derived() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for module in loaders.modules():
        for rule_id in loaders.rejects_any_version(module):
            out.setdefault(rule_id, set()).add(module.NAME)
    return out


def test_every_table_rule_exists():
    rules = _catalogue()
    assert set(derived()) <= set(rules), set(derived()) - set(rules)


def test_declared_loaders_cover_the_models():
    rules = _catalogue()
    missing = {(rule_id, name) for rule_id, names in derived().items()
               for name in names - set(rules[rule_id].loaders)}
    assert not missing, sorted(missing)
