"""Re-exported from ``validator.io.source`` (the bounded, non-blocking reads)."""

from validator.io.source import InputError, Source, open_regular  # noqa: F401
