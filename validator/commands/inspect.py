"""kimage inspect IMAGE... [--format text|json]: decode every layer and field."""

from __future__ import annotations

import sys

from validator.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from validator.commands.check import add_limit_option, limits

ORDER = 10


def register(sub) -> None:
    p = sub.add_parser("inspect", help="decode every layer and header field of an image")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="a file; - reads standard input")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_limit_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    """As check: every IMAGE gets a result; one that cannot be read makes the exit 2."""
    from validator.commands.check import UsageError, each_image, once_stdin
    from validator.pipeline import analyse
    from validator.report import render_json, render_text

    try:
        once_stdin(args.images)
    except UsageError as exc:
        print(f"kimage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    results, unreadable = each_image(
        args.images, lambda path: analyse(path, limits(args, decode_all=False)))
    out = render_json(results) if args.format == "json" else render_text(results)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    if unreadable:
        return EXIT_USAGE
    return EXIT_FINDINGS if any(r.verdict == "fail" for r in results) else EXIT_OK
