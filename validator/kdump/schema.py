"""The JSON Schema of ``kimage preflight --format json`` (``kimage-preflight/1``).

``host.malformed`` lists the host files that were not what the kernel writes there
(topic, file, a summary; never their bytes); ``initrd`` is --initrd's size, format and
problem ("" when the kernel would unpack it); the ``initrd`` step exists only with
--initrd (or a discovered initrd). Without IMAGE, ``discovery`` says what the host's kdump
configuration named and the command its tool runs; ``reservation`` is the recommended
``crashkernel=`` with one line per need (validator.kdump.reserve).
"""

from __future__ import annotations

_EVIDENCE = {"type": "object", "required": ["file", "value"],
             "properties": {"file": {"type": "string"}, "value": {"type": "string"},
                            "note": {"type": "string"}}}


def schema(schema_id: str, loaders: tuple[str, ...], statuses: tuple[str, ...]) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:kimage:preflight:1",
        "title": "kimage preflight report",
        "type": "object",
        "required": ["schema", "tool", "image", "host", "loader", "steps", "loaders", "verdict"],
        "properties": {
            "schema": {"const": schema_id},
            "tool": {"type": "object", "required": ["name", "version"]},
            "image": {"type": "object", "required": ["path", "format", "facts", "signature"]},
            "initrd": {"type": ["object", "null"],
                       "required": ["path", "size", "format", "problem"],
                       "properties": {"size": {"type": "integer"}, "format": {"type": "string"},
                                      "problem": {"type": "string"}}},
            "host": {"type": "object", "required": ["root", "arch", "crash_region", "malformed",
                                                    "evidence"],
                     "properties": {"malformed": {"type": "array", "items": {
                         "type": "object", "required": ["topic", "file", "summary"]}}}},
            "loader": {"enum": list(loaders)},
            "command": {"type": "string"},
            "steps": {"type": "array", "items": {
                "type": "object",
                "required": ["step", "status", "message", "evidence", "rule", "rules"],
                "additionalProperties": False,
                "properties": {
                    "step": {"enum": ["discovery", "command", "fadump", "image", "initrd",
                                      "crash-region", "arch", "page-size", "relocatable",
                                      "fit", "reservation", "load-path", "crash-loaded"]},
                    "status": {"enum": list(statuses)},
                    "message": {"type": "string"},
                    "rule": {"type": ["string", "null"], "pattern": "^preflight/[a-z0-9-]+$"},
                    "rules": {"type": "array", "items": {"pattern": "^preflight/[a-z0-9-]+$"}},
                    "evidence": {"type": "array", "items": _EVIDENCE},
                }}},
            "loaders": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["verdict", "reasons"],
                "properties": {"verdict": {"enum": ["pass", "warn", "fail"]}}}},
            "discovery": {"type": ["object", "null"],
                          "required": ["tool", "kernel", "initrd", "cmdline", "command",
                                       "loader", "fadump", "evidence"],
                          "properties": {"tool": {"enum": ["kdump-tools", "kdumpctl", "none"]},
                                         "evidence": {"type": "array", "items": _EVIDENCE}}},
            "reservation": {"type": ["object", "null"],
                            "required": ["size", "crashkernel", "lines"],
                            "properties": {"size": {"type": "integer"},
                                           "crashkernel": {"pattern": "^crashkernel=[0-9]+M$"},
                                           "lines": {"type": "array", "items": {
                                               "type": "object",
                                               "required": ["what", "bytes", "why"]}}}},
            "verdict": {"enum": ["pass", "warn", "fail"]},
        },
    }


def _build() -> dict:
    from validator.kdump.model import STATUSES
    from validator.kdump.report import SCHEMA_ID
    from validator.kdump.rules import LOADERS

    return schema(SCHEMA_ID, LOADERS, STATUSES)
