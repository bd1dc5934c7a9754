"""Kept for validator.schemas: preflight's JSON Schema is validator.kdump.schema (and
validator.preflight.SCHEMA, which validator.schemas falls back to)."""

from validator.kdump.schema import schema  # noqa: F401
