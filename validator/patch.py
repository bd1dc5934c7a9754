"""Kept for validator.rules.registry (RULE_MODULES): patch is validator.kdump.patch.
Importing this declares patch's rules."""

from validator.kdump.patch import VALUES, PatchError, Plan, write_run_at_load  # noqa: F401
