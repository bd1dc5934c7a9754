"""kimage schema [NAME]: print the JSON Schema of a document kimage writes.

NAME: report (the default: check, inspect and lint --format json), jsonl-line (one line
of lint --format jsonl), preflight, fuzz-manifest (kimage fuzz's manifest.json), rules
(kimage rules --format json), baseline (--write-baseline's file). See validator.schemas.
"""

from __future__ import annotations

import json

from validator.commands import EXIT_OK
from validator.schemas import NAMES

ORDER = 90


def register(sub) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of a report or file kimage "
                                      "writes")
    p.add_argument("name", nargs="?", default="report", choices=NAMES, metavar="NAME",
                   help="which document: " + ", ".join(NAMES) + " (default: report)")
    p.set_defaults(run=run)


def run(args) -> int:
    from validator import schemas

    print(json.dumps(schemas.get(args.name), indent=2))
    return EXIT_OK
