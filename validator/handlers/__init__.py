"""Re-exported: the header decoders are in ``validator.formats.<format>.decoder``."""

from validator.units import human_size  # noqa: F401
