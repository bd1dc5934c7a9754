"""The ``kimage`` command: wires sources, layers, handlers and reports; decides nothing."""

from __future__ import annotations

import argparse
import sys

from validator import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kimage",
        description="Inspect and validate Linux kernel boot-image headers "
                    "(arm64 Image, ppc64 head).")
    parser.add_argument("--version", action="version", version=f"kimage {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="decode every layer and header field of an image")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=_inspect)

    p = sub.add_parser("rules", help="list the rules, or explain one")
    p.add_argument("rule", nargs="?", metavar="ID")
    p.set_defaults(run=_rules)

    p = sub.add_parser("schema", help="print the JSON Schema of the report")
    p.set_defaults(run=_schema)
    return parser


def _inspect(args) -> int:
    from validator.pipeline import analyse
    from validator.report import render_json, render_text
    from validator.source import InputError

    results = []
    for path in args.images:
        try:
            results.append(analyse(path))
        except InputError as exc:
            print(f"kimage: {exc}", file=sys.stderr)
            return EXIT_USAGE
    out = render_json(results) if args.format == "json" else render_text(results)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    failed = any(r.verdict == "fail" for r in results)
    return EXIT_FINDINGS if failed else EXIT_OK


def _rules(args) -> int:
    from validator.rules.registry import RULES

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


def _schema(args) -> int:
    import json

    from validator.report import SCHEMA

    print(json.dumps(SCHEMA, indent=2))
    return EXIT_OK
