"""kimage: Linux kernel boot-image headers, specified and validated."""

__version__ = "0.1.0"
