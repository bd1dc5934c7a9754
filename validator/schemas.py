"""The JSON Schemas of the documents kimage writes, by name (``kimage schema NAME``).

- ``report``: ``kimage check|inspect|lint --format json`` (validator.report_schema.SCHEMA).
- ``jsonl-line``: one line of ``kimage lint --format jsonl``: one image object of the
  report, i.e. the report schema's ``$defs/image`` (referenced, never copied).
- ``preflight``: ``kimage preflight --format json``.
- ``fuzz-manifest``: the ``manifest.json`` ``kimage fuzz`` writes.
- ``rules``: ``kimage rules --format json``.
- ``baseline``: the file ``--write-baseline`` writes.

Imported only by ``kimage schema`` and the tests: nothing here is on the check path.
"""

from __future__ import annotations

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NAMES = ("report", "jsonl-line", "preflight", "fuzz-manifest", "rules", "baseline")
_TOOL = {"type": "object", "required": ["name", "version"],
         "properties": {"name": {"const": "kimage"}, "version": {"type": "string"}}}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_RULE_ID = {"type": "string", "pattern": "^[a-z0-9]+/[a-z0-9-]+$"}


def get(name: str) -> dict:
    """The schema called ``name`` (one of NAMES); KeyError for any other."""
    if name not in NAMES:
        raise KeyError(name)
    return {"report": _report, "jsonl-line": jsonl_line, "preflight": _preflight,
            "fuzz-manifest": fuzz_manifest, "rules": rules,
            "baseline": baseline}[name]()


def _report() -> dict:
    from validator.report_schema import SCHEMA

    return SCHEMA


def jsonl_line() -> dict:
    """One image of the report: a reference to the report schema's ``$defs/image``,
    with the report's ``$defs`` (the same objects, so the two cannot drift apart)."""
    from validator.report_schema import SCHEMA

    return {"$schema": SCHEMA.get("$schema", DRAFT), "$id": "urn:kimage:report-image:1",
            "title": "one image of a kimage report (a line of lint --format jsonl)",
            "$ref": "#/$defs/image", "$defs": SCHEMA["$defs"]}


def _preflight() -> dict:
    """preflight's schema: validator.preflight_schema.SCHEMA where that module holds the
    finished schema, else the one validator.preflight builds."""
    from validator import preflight_schema

    schema = getattr(preflight_schema, "SCHEMA", None)
    if isinstance(schema, dict):
        return schema
    from validator.preflight import SCHEMA

    return SCHEMA


def fuzz_manifest() -> dict:
    """``manifest.json`` of ``kimage fuzz`` (validator.commands.fuzz, and each file's
    ``validator.seedcorpus.Sample.describe``)."""
    from validator.commands.fuzz import FORMATS

    scalar = {"type": ["string", "integer", "boolean", "null"]}
    return {
        "$schema": DRAFT,
        "$id": "urn:kimage:fuzz-manifest:1",
        "title": "kimage fuzz manifest",
        "type": "object",
        "required": ["format", "tool", "generator", "files"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": "kimage-fuzz/1"},
            "tool": _TOOL,
            "generator": {
                "type": "object",
                "required": ["format", "seed", "count", "only", "from", "from_sha256"],
                "additionalProperties": False,
                "properties": {
                    "format": {"enum": list(FORMATS)},
                    "seed": {"type": "string"},
                    "count": {"type": "integer", "minimum": 1},
                    "only": {"enum": ["valid", "near-valid", None]},
                    "from": {"type": ["string", "null"],
                             "description": "the base name of --from IMAGE"},
                    "from_sha256": {"anyOf": [_SHA256, {"type": "null"}]},
                },
            },
            "files": {"type": "array", "items": {
                "type": "object",
                "required": ["path", "size", "sha256", "kind", "name", "valid", "mutation",
                             "expect", "params"],
                "additionalProperties": False,
                "properties": {
                    "path": {"type": "string", "pattern": "^[^/]+\\.bin$",
                             "description": "the file's name in the output directory"},
                    "size": {"type": "integer", "minimum": 0},
                    "sha256": _SHA256,
                    "kind": {"type": "string"},
                    "name": {"type": "string"},
                    "valid": {"type": "boolean"},
                    "mutation": {"type": ["string", "null"],
                                 "description": "null for a valid image, else the change"},
                    "expect": {"type": "array", "items": _RULE_ID,
                               "description": "rule IDs kimage reports for the file"},
                    "params": {"type": "object", "additionalProperties": {"anyOf": [
                        scalar, {"type": "array", "items": scalar}]}},
                },
            }},
        },
    }


def rules() -> dict:
    """``kimage rules --format json`` (validator.commands.rules.catalogue)."""
    from validator.commands.rules import CATALOGUE_ID

    return {
        "$schema": DRAFT,
        "$id": "urn:kimage:rules:1",
        "title": "kimage rule catalogue",
        "type": "object",
        "required": ["schema", "tool", "rules"],
        "additionalProperties": False,
        "properties": {
            "schema": {"const": CATALOGUE_ID},
            "tool": _TOOL,
            "rules": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "severity", "summary", "rationale", "reference", "loaders",
                             "doc"],
                "additionalProperties": False,
                "properties": {
                    "id": _RULE_ID,
                    "severity": {"enum": ["error", "warning", "info"]},
                    "summary": {"type": "string", "minLength": 1},
                    "rationale": {"type": "string"},
                    "reference": {"type": "string"},
                    "loaders": {"type": "array", "items": {"type": "string"}},
                    "doc": {"type": "string", "pattern": "^docs/rules/[a-z0-9]+/[a-z0-9-]+\\.md$",
                            "description": "the rule's page, relative to the repository"},
                },
            }},
        },
    }


def baseline() -> dict:
    """The file ``--write-baseline`` writes (validator.baseline)."""
    from validator.baseline import FORMAT

    return {
        "$schema": DRAFT,
        "$id": "urn:kimage:baseline:1",
        "title": "kimage baseline",
        "type": "object",
        "required": ["format", "tool", "findings"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT},
            "tool": _TOOL,
            "findings": {"type": "array", "items": {
                "type": "object",
                "required": ["fingerprint", "rule", "image", "version", "field", "count"],
                "additionalProperties": False,
                "properties": {
                    "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                    "rule": {"type": "string"},
                    "image": {"type": "string",
                              "description": "the path under the scanned root, with "
                                             "version-like parts as *"},
                    "version": {"type": "string"},
                    "field": {"type": "string"},
                    "count": {"type": "integer", "minimum": 1},
                    "message": {"type": "string", "description": "for people; not matched"},
                },
            }},
        },
    }
