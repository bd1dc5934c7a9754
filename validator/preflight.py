"""Kept for validator.rules.registry (RULE_MODULES) and validator.schemas: preflight is
validator.kdump. Importing this declares preflight's rules."""

from validator.kdump import hostcheck as _hostcheck  # noqa: F401  (declares two rules)
from validator.kdump.model import COMMAND, STATUSES, Decision, Step  # noqa: F401
from validator.kdump.render import render_preflight  # noqa: F401
from validator.kdump.report import SCHEMA_ID, PreflightReport, decide, run  # noqa: F401
from validator.kdump.rules import LOADERS  # noqa: F401
from validator.kdump.schema import _build

SCHEMA: dict = _build()
