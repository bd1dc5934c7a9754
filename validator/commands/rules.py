"""kimage rules [ID|PREFIX] [--format text|json]: list the rules, or explain one.

A PREFIX selects as ``--select`` does (``arm64``, ``arm64/``, ``ALL``); an exact ID in
text explains that rule with a live example. ``--format json`` prints the catalogue as a
``kimage-rules/1`` document (``kimage schema rules``), sorted by ID.
"""

from __future__ import annotations

import sys

from validator.commands import EXIT_OK, EXIT_USAGE

ORDER = 80
CATALOGUE_ID = "kimage-rules/1"
#: Where each rule's page is, relative to the repository (tools/gen_rule_docs.py).
DOCS_DIR = "docs/rules"


def register(sub) -> None:
    p = sub.add_parser("rules", help="list the rules, or explain one",
                       description="List the rules (all, or those a prefix selects, as "
                                   "--select takes it), or explain one rule.")
    p.add_argument("rule", nargs="?", metavar="ID|PREFIX",
                   help="a rule ID explains that rule; a prefix such as arm64 or arm64/ "
                        "(or ALL; or several, comma-separated, as --select takes them) "
                        "lists the rules they select")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: the catalogue as a kimage-rules/1 document")
    p.set_defaults(run=run)


def doc_path(rule_id: str) -> str:
    """The rule's page in the repository: docs/rules/<namespace>/<name>.md."""
    return f"{DOCS_DIR}/{rule_id}.md"


def rule_dict(rule) -> dict:
    return {"id": rule.id, "severity": rule.severity, "summary": rule.summary,
            "rationale": rule.rationale, "reference": rule.reference,
            "loaders": list(rule.loaders), "doc": doc_path(rule.id)}


def catalogue(rules) -> dict:
    """The ``kimage-rules/1`` document of ``rules`` (sorted by ID here)."""
    from validator import __version__

    return {"schema": CATALOGUE_ID, "tool": {"name": "kimage", "version": __version__},
            "rules": [rule_dict(r) for r in sorted(rules, key=lambda r: r.id)]}


def selected(patterns: str | None) -> tuple[list, str | None]:
    """(the rules ``patterns`` name, sorted by ID; the first name that names none).
    None or "": every rule. Else comma-separated names, as --select takes them: a rule ID, a
    namespace (``arm64``, ``arm64/``), ALL or *."""
    from validator.checker import Selection
    from validator.rules.registry import load_all

    rules = load_all()
    names = names_in(patterns)
    if not names:  # as --select "" selects every rule
        return sorted(rules.values(), key=lambda r: r.id), None
    chosen: dict = {}
    for name in names:
        hits = [r for r in rules.values() if Selection(select=[name]).wants(r.id)]
        if not hits:
            return [], name
        chosen.update((r.id, r) for r in hits)
    return sorted(chosen.values(), key=lambda r: r.id), None


def names_in(patterns: str | None) -> list[str]:
    return [p.strip() for p in (patterns or "").split(",") if p.strip()]


def run(args) -> int:
    import json

    from validator.rules.registry import unknown_message
    from validator.textsafe import escape_text

    rules, unknown = selected(args.rule)
    if unknown is not None:
        near = unknown_message(unknown).removeprefix("unknown rule ")
        print(escape_text(f"kimage: no rule {near}"), file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps(catalogue(rules), indent=2))
        return EXIT_OK
    if names_in(args.rule) == [rules[0].id]:
        print(explain(rules[0]))
        print("\n" + example(rules[0].id))
        return EXIT_OK
    width = max(len(r.id) for r in rules)
    for rule in rules:
        print(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.summary}")
    return EXIT_OK


def explain(rule) -> str:
    return (f"{rule.id}  ({rule.severity})\n\n  {rule.summary}\n\n"
            f"Why: {rule.rationale}\n\nLoaders: {', '.join(rule.loaders) or 'none'}\n"
            f"Reference: {rule.reference}")


def example(rule_id: str) -> str:
    """A near-valid image from the seed-corpus generator that triggers ``rule_id``, and
    what ``kimage check`` says of it; made afresh, so the example cannot go stale."""
    import os
    import tempfile

    from validator import checker, seedcorpus
    from validator.source import InputError

    for kind in seedcorpus.available_kinds():
        for mutation in seedcorpus.mutations(kind):
            try:
                sample = seedcorpus.generate(kind, seedcorpus.RandomChooser("example"),
                                             mutation=mutation)
            except (ValueError, ImportError):
                continue
            if rule_id not in sample.expect:
                continue
            fd, path = tempfile.mkstemp(prefix="kimage-example-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(sample.data)
                result = checker.check_image(path, checker.Options())
            except InputError:
                continue
            finally:
                os.unlink(path)
            hits = [f for f in result.findings if f.rule == rule_id]
            if not hits:
                continue
            lines = [f"Example: a file of kind {kind} with the near-valid change {mutation!r} "
                     f"(`kimage fuzz --format {kind}` makes such files):"]
            for f in hits:
                where = f" at {f.offset:#x}" if f.offset is not None else ""
                lines.append(f"  {f.severity} {f.rule}{where}: {f.message}")
            rejecting = [n for n, v in result.loaders.items() if rule_id in v["reasons"]]
            if rejecting:
                lines.append(f"  refused by: {', '.join(rejecting)}")
            return "\n".join(lines)
    return ("Example: none generated here: no seed-corpus sample triggers this rule (it needs "
            "a --config, a --system-map, a --target, a host, or an input too large or too "
            "specific to make on the spot); see its test in tests/.")
