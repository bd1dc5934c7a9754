"""kimage schema: print the JSON Schema of the report."""

from __future__ import annotations

import json

from validator.cli import EXIT_OK

ORDER = 90


def register(sub) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of the report")
    p.set_defaults(run=run)


def run(args) -> int:
    from validator.report import SCHEMA

    print(json.dumps(SCHEMA, indent=2))
    return EXIT_OK
