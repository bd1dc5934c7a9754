"""The JSON Schema of ``kimage preflight --format json`` (``kimage-preflight/1``).

``host.malformed`` lists the host files that were not what the kernel writes there
(topic, file, a summary; never their bytes); ``initrd`` is --initrd's size, format and
problem ("" when the kernel would unpack it); the ``initrd`` step exists only with
--initrd (or a discovered initrd). Without IMAGE, ``discovery`` says what the host's kdump
configuration named and the command its tool runs; ``reservation`` is the recommended
``crashkernel=`` with one line per need (validator.kdump.reserve). ``kexec_path`` is the
path the host's ``kexec -p`` takes (validator.kdump.kexecpath): the kexec-tools release
and the file that told it, the mode (``auto``: kexec_file_load first with the fallback;
``file``: ``-s``; ``load``: ``-c`` or the default before 2.0.27; null when unknown), and
one entry per call in the order made, with the errno it returns (null: returns 0, or
never made) and whether kexec falls back; ``loader`` is the last call's loader.
"""

from __future__ import annotations

_EVIDENCE = {"type": "object", "required": ["file", "value"],
             "properties": {"file": {"type": "string"}, "value": {"type": "string"},
                            "note": {"type": "string"}}}


_ATTEMPT = {"type": "object", "additionalProperties": False,
            "required": ["syscall", "available", "errno", "fallback", "outcome", "why"],
            "properties": {"syscall": {"enum": ["kexec_file_load", "kexec_load"]},
                           "available": {"type": ["boolean", "null"]},
                           "errno": {"type": ["string", "null"], "pattern": "^E[A-Z]+$"},
                           "fallback": {"type": "boolean"},
                           "outcome": {"enum": ["loads", "fallback", "final", "refused"]},
                           "why": {"type": "string"}}}
_PATH = {"type": ["object", "null"],
         "required": ["kexec_tools", "mode", "mode_why", "kernel", "steps", "loader", "loads"],
         "properties": {
             "kexec_tools": {"type": "object", "required": ["version", "source", "package",
                                                            "build"],
                             "properties": {"version": {"type": ["string", "null"]},
                                            "source": {"type": ["string", "null"]},
                                            "package": {"type": ["string", "null"]},
                                            "build": {"type": ["string", "null"]}}},
             "mode": {"enum": ["auto", "file", "load", None]},
             "mode_why": {"type": "string"},
             "kernel": {"type": ["string", "null"]},
             "steps": {"type": "array", "items": _ATTEMPT},
             "loader": {"enum": ["kexec-tools", "kexec-file", None]},
             "loads": {"type": ["boolean", "null"]}}}


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
            "kexec_path": _PATH,
            "steps": {"type": "array", "items": {
                "type": "object",
                "required": ["step", "status", "message", "evidence", "rule", "rules"],
                "additionalProperties": False,
                "properties": {
                    "step": {"enum": ["discovery", "command", "fadump", "path", "image",
                                      "initrd",
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
