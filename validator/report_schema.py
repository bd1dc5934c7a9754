"""The JSON Schema of the report ``kimage check|inspect|lint --format json`` writes
(``kimage-report/1``, validator.report), read by ``kimage schema report`` and the tests
(validator.schemas): nothing here is on the check path."""

from __future__ import annotations

from validator.formats.foreign import ARCHES as _FOREIGN_ARCHES
from validator.report import SCHEMA_ID

_NULLABLE_INT = {"type": ["integer", "null"]}
_SEVERITY = {"enum": ["error", "warning", "info"]}

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:kimage:report:1",
    "title": "kimage report",
    "type": "object",
    "required": ["schema", "tool", "images"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"const": "kimage"}, "version": {"type": "string"}},
        },
        "images": {"type": "array", "items": {"$ref": "#/$defs/image"}},
    },
    "$defs": {
        "image": {
            "type": "object",
            "required": ["path", "format", "layers", "header", "facts", "findings", "loaders",
                         "verdict"],
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string", "description":
                         "the file name; bytes that are not UTF-8 appear as \\xNN"},
                "path_bytes": {"type": "string", "contentEncoding": "base64",
                               "description": "the file name's exact bytes, present only "
                                              "when the name is not UTF-8"},
                "format": {"enum": ["arm64-image", "ppc64-head", "x86-bzimage", "riscv64-image",
                                    "foreign", "unknown"]},
                "layers": {"type": "array", "items": {
                    "type": "object", "required": ["kind", "offset"],
                    "properties": {"kind": {"type": "string"}, "offset": {"type": "integer"}},
                }},
                "header_offset": _NULLABLE_INT,
                "file_size": _NULLABLE_INT,
                "payload_size": _NULLABLE_INT,
                "header": {"type": "object"},
                "derived": {"type": "object"},
                "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}},
                "facts": {"$ref": "#/$defs/facts"},
                "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
                "loaders": {"type": "object", "additionalProperties": {
                    "type": "object", "required": ["verdict", "reasons", "notes"],
                    "properties": {
                        "verdict": {"enum": ["accept", "reject", "n/a"]},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                        "notes": {"type": "array", "items": {"type": "string"}},
                        "version": {"type": ["string", "null"],
                                    "description": "the loader release judged"},
                        "by_version": {
                            "type": "array",
                            "description": "older releases whose verdict differs from "
                                           "this one, as inclusive ranges of modelled "
                                           "releases",
                            "items": {
                                "type": "object",
                                "required": ["from", "to", "verdict", "reasons", "notes"],
                                "properties": {
                                    "from": {"type": "string"},
                                    "to": {"type": "string"},
                                    "verdict": {"enum": ["accept", "reject", "n/a"]},
                                    "reasons": {"type": "array",
                                                "items": {"type": "string"}},
                                    "notes": {"type": "array", "items": {"type": "string"}},
                                },
                            }},
                        "build": {"type": "string", "description":
                                  "the build judged (loaders with several builds, e.g. "
                                  "kexec-tools: upstream, debian; NAME@VERSION+BUILD asks "
                                  "for one)"},
                        "libraries": {"type": "array", "items": {"type": "string"},
                                      "description": "the optional libraries that build "
                                                     "links on the image's architecture, "
                                                     "and the patches it applies "
                                                     "(NAME.patch)"},
                        "by_build": {
                            "type": "array",
                            "description": "present when no build was asked for: the "
                                           "other builds whose verdict differs at the "
                                           "release judged",
                            "items": {
                                "type": "object",
                                "required": ["build", "title", "libraries", "verdict",
                                             "reasons", "notes"],
                                "properties": {
                                    "build": {"type": "string"},
                                    "title": {"type": "string"},
                                    "libraries": {"type": "array",
                                                  "items": {"type": "string"}},
                                    "verdict": {"enum": ["accept", "reject", "n/a"]},
                                    "reasons": {"type": "array",
                                                "items": {"type": "string"}},
                                    "notes": {"type": "array", "items": {"type": "string"}},
                                },
                            }},
                    },
                }},
                "verdict": {"enum": ["pass", "warn", "fail"]},
            },
        },
        "field": {
            "type": "object",
            "required": ["name", "offset", "size", "raw", "value", "meaning"],
            "properties": {
                "name": {"type": "string"},
                "offset": {"type": "integer", "minimum": 0},
                "size": {"type": "integer", "minimum": 0},
                "raw": {"type": ["integer", "string", "null"]},
                "meaning": {"type": "string"},
                "bits": {"type": "string"},
            },
        },
        "facts": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "arch": {"enum": ["arm64", "ppc64", "x86_64", "x86", "riscv64",
                                  *_FOREIGN_ARCHES]},
                "endianness": {"enum": ["little", "big", None]},
                "page_size": {"enum": [4096, 16384, 65536, None]},
                "placement": {"enum": ["anywhere", "dram-base", None]},
                "text_offset": _NULLABLE_INT,
                "image_size": _NULLABLE_INT,
                "efi_stub": {"type": ["boolean", "null"]},
                "compression": {"type": ["string", "null"]},
                "relocatable": {"type": ["boolean", "null"]},
                "run_at_load": {"anyOf": [{"const": "run0"}, {"type": "integer"}]},
                "layout": {"enum": ["plain_branch", "fixup_endian_short",
                                    "fixup_endian_long", None]},
                "kernel_version": {"type": ["string", "null"]},
                # an x86 bzImage's (validator/formats/x86_bzimage/decoder.py facts_of)
                "protocol": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"},
                "kernel_64": {"type": "boolean"},
                "efi_handover": {"type": "boolean"},
                "kernel_alignment": _NULLABLE_INT,
                "pref_address": _NULLABLE_INT,
                "init_size": _NULLABLE_INT,
                # a riscv64 Image's (validator/formats/riscv64_image/decoder.py facts_of)
                "header_version": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+$"},
                "pe_offset": _NULLABLE_INT,
                # validator/conventions.py (arm64 kernels)
                "convention": {"enum": ["android-gki-boot-v4", "fedora-zboot-zstd",
                                        "ubuntu-gzip-signed-image", "debian-signed-image",
                                        "raspberry-pi-16k-image", None]},
                "zboot_codec": {
                    "type": "object", "required": ["codec", "name", "consumers"],
                    "additionalProperties": False,
                    "properties": {
                        "codec": {"type": ["string", "null"]},
                        "name": {"type": ["string", "null"]},
                        "consumers": {"type": "object", "additionalProperties": {
                            "type": "object", "required": ["supported", "since", "why"],
                            "additionalProperties": False,
                            "properties": {"supported": {"type": ["boolean", "null"]},
                                           "since": {"type": ["string", "null"]},
                                           "why": {"type": "string"}}}}}},
            },
        },
        "finding": {
            "type": "object",
            "required": ["rule", "severity", "message", "offset", "field", "loaders"],
            "additionalProperties": False,
            "properties": {
                "rule": {"type": "string", "pattern": "^[a-z0-9]+/[a-z0-9-]+$"},
                "severity": _SEVERITY,
                "message": {"type": "string"},
                "offset": _NULLABLE_INT,
                "field": {"type": ["string", "null"]},
                "loaders": {"type": "array", "items": {"type": "string"}},
                "consequences": {
                    "description": "findings that follow from this one, folded under it",
                    "type": "array",
                    "items": {"type": "object", "required": ["rule", "message"],
                              "additionalProperties": False,
                              "properties": {"rule": {"type": "string"},
                                             "message": {"type": "string"}}}},
            },
        },
    },
}
