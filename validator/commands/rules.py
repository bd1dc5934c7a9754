"""kimage rules [ID]: list the rules, or explain one with a live example."""

from __future__ import annotations

import sys

from validator.cli import EXIT_OK, EXIT_USAGE

ORDER = 80


def register(sub) -> None:
    p = sub.add_parser("rules", help="list the rules, or explain one")
    p.add_argument("rule", nargs="?", metavar="ID")
    p.set_defaults(run=run)


def run(args) -> int:
    from validator.rules.registry import load_all

    rules = load_all()
    if args.rule:
        rule = rules.get(args.rule)
        if rule is None:
            print(f"kimage: no rule {args.rule!r}; `kimage rules` lists them", file=sys.stderr)
            return EXIT_USAGE
        print(f"{rule.id}  ({rule.severity})\n\n  {rule.summary}\n\n"
              f"Why: {rule.rationale}\n\nLoaders: {', '.join(rule.loaders) or 'none'}\n"
              f"Reference: {rule.reference}")
        print("\n" + example(rule.id))
        return EXIT_OK
    width = max(len(r) for r in rules)
    for rule in sorted(rules.values(), key=lambda r: r.id):
        print(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.summary}")
    return EXIT_OK


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
    return ("Example: none generated here; this rule needs more than an image (a --config, "
            "a --system-map, a --target or a host), see its test in tests/.")
