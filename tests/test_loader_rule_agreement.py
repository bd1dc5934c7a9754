"""A rule's declared ``loaders`` against the loader models that refuse for it.

For every rule in the catalogue, the loaders whose REJECTS tables (at any modelled
release: ``REJECTS`` and ``REJECTS_BY_VERSION``) name it are derived from the models and
compared with the loaders the rule declares: every derived loader must be declared,
except for the pairs in EXPECTED_MISMATCHES below. (The other direction, a declared
loader no table names, is mostly a loader's ``special`` and is not checked here.)

EXPECTED_MISMATCHES is a known debt, not a specification: rule declarations live in
validator/rules/ and the format packages, which are being restructured; once the
restructure derives a rule's ``loaders`` from the models (validator.loaders
rejects_any_version), delete the list. A rule a loader refuses for only through its
``special`` (decided on the image, e.g. kexec-tools and layer/compressed for zstd before
2.0.31) is not in a table and so not derived here.
"""

from __future__ import annotations

from validator import loaders
from validator.rules import registry

#: (rule, loader): in a model's REJECTS table, not in the rule's declared loaders
MODEL_ONLY = {
    ("arm64/truncated-header", "grub"), ("arm64/truncated-header", "efi"),
    ("arm64/bad-magic", "qemu"),
    ("layer/zboot", "qemu"), ("uimage/compression-mismatch", "qemu"),
}
EXPECTED_MISMATCHES = MODEL_ONLY


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


def test_declared_loaders_cover_the_models_except_the_known_mismatches():
    rules = _catalogue()
    missing = {(rule_id, name) for rule_id, names in derived().items()
               for name in names - set(rules[rule_id].loaders)}
    assert missing == EXPECTED_MISMATCHES


def test_the_known_mismatches_are_real():
    """Each listed pair is in a model's table and not declared (a stale entry fails)."""
    rules = _catalogue()
    table = derived()
    for rule_id, name in EXPECTED_MISMATCHES:
        assert name in table.get(rule_id, set())
        assert name not in rules[rule_id].loaders
