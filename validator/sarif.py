"""SARIF 2.1.0 of check results: every rule of the catalogue in the driver, a result per
finding, artifacts named by file: URI or relative to %SRCROOT%. validator.ci_formats makes
it a code-scanning upload; validator.ci_stream writes it as results arrive. Imported only
when a run asks for SARIF (a text check never does).

The driver's rules come from validator.rules.table, the catalogue as generated from the
rules' declarations (tools/gen_rule_docs.py; a test holds it to them): listing every rule
does not import every module that declares one (77 M instructions of a 230 M check).
"""

from __future__ import annotations

from validator import __version__
from validator.model import ImageResult
from validator.textsafe import dumps, uri_path

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def to_sarif(results: list[ImageResult]) -> dict:
    from validator.rules.table import RULES

    index = sarif_rule_index()
    out_results = [item for r in results for item in sarif_results(r, index)]
    driver = {
        "name": "kimage",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [{
            "id": rule_id,
            "name": rule_id.replace("/", "-"),
            "shortDescription": {"text": summary},
            "fullDescription": {"text": rationale},
            "help": {"text": f"{rationale}\nReference: {reference}"},
            "defaultConfiguration": {"level": _SARIF_LEVEL[severity]},
            "properties": {"tags": list(loaders)},
        } for rule_id, severity, summary, rationale, reference, loaders in RULES],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [{"executionSuccessful": True}],
            "artifacts": [{"location": _uri(r.path)} for r in results],
            "results": out_results,
        }],
    }


def sarif_rule_index() -> dict[str, int]:
    """Rule ID -> its index in the SARIF driver's rules (sorted by ID)."""
    from validator.rules.table import RULES

    return {row[0]: i for i, row in enumerate(RULES)}


def sarif_results(r: ImageResult, index: dict[str, int], where: dict | None = None,
                  ) -> list[dict]:
    """The SARIF results of one image's findings (``index``: ``sarif_rule_index``), at
    the artifactLocation ``where`` (else the image's path, see ``_uri``)."""
    out = []
    uri = _uri(r.path) if where is None else where
    for f in r.findings:
        location: dict = {"physicalLocation": {"artifactLocation": uri}}
        offset = _file_offset(r, f.offset)
        if offset is not None:
            location["physicalLocation"]["region"] = {"byteOffset": offset}
        item = {
            "ruleId": f.rule,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [location],
            "properties": {"loaders": list(f.loaders), "format": r.format},
        }
        if f.rule in index:
            item["ruleIndex"] = index[f.rule]
        if f.field:
            item["properties"]["field"] = f.field
        out.append(item)
    return out


def _uri(path: str) -> dict:
    """An artifactLocation: an absolute path as a file: URI, a relative one relative to
    %SRCROOT%; the name's bytes percent-encoded (RFC 3986), so "#", "?", "%" and bytes
    that are not UTF-8 stay part of the name."""
    from pathlib import PurePath

    p = PurePath(path).as_posix()
    if p.startswith("/"):
        return {"uri": "file:///" + uri_path(p.lstrip("/"))}
    return {"uri": uri_path(p), "uriBaseId": "%SRCROOT%"}


def _file_offset(r: ImageResult, offset: int | None) -> int | None:
    """A finding's offset in the file; None when the header's bytes were decoded (the
    pipeline leaves header_offset None then)."""
    if offset is None or r.header_offset is None:
        return None
    return r.header_offset + offset


def render_sarif(results: list[ImageResult]) -> str:
    return dumps(to_sarif(results), indent=2)
