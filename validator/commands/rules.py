"""kimage rules [ID]: list the rules, or explain one."""

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

    RULES = load_all()

    if args.rule:
        rule = RULES.get(args.rule)
        if rule is None:
            print(f"kimage: no rule {args.rule!r}; `kimage rules` lists them", file=sys.stderr)
            return EXIT_USAGE
        print(f"{rule.id}  ({rule.severity})\n\n  {rule.summary}\n\n"
              f"Why: {rule.rationale}\n\nLoaders: {', '.join(rule.loaders) or 'none'}\n"
              f"Reference: {rule.reference}")
        return EXIT_OK
    width = max(len(r) for r in RULES)
    for rule in sorted(RULES.values(), key=lambda r: r.id):
        print(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.summary}")
    return EXIT_OK
