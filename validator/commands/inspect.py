"""kimage inspect IMAGE... [--format text|json]: decode every layer and field."""

from __future__ import annotations

import sys

from validator.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from validator.commands.check import add_limit_option, limits

ORDER = 10


def register(sub) -> None:
    p = sub.add_parser("inspect", help="decode every layer and header field of an image")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_limit_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from validator.pipeline import analyse
    from validator.report import render_json, render_text
    from validator.source import InputError

    results = []
    for path in args.images:
        try:
            results.append(analyse(path, limits(args, decode_all=False)))
        except InputError as exc:
            print(f"kimage: {exc}", file=sys.stderr)
            return EXIT_USAGE
    out = render_json(results) if args.format == "json" else render_text(results)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return EXIT_FINDINGS if any(r.verdict == "fail" for r in results) else EXIT_OK
