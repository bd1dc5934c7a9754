"""The kernel's own version banner (``linux_banner``, init/version.c)."""

from __future__ import annotations

import re

# "Linux version 6.1.0-50-arm64 (debian-kernel@...) (gcc ...) #1 SMP ..." The release
# is followed by " (" in every banner since 2.6; printk formats ("Linux version %s")
# do not match because a digit must follow.
BANNER = re.compile(rb"Linux version (\d+\.\d+[\x21-\x7e]*) \(")


def kernel_version(source) -> str | None:
    """The release string of the first banner in ``source`` (a ``Source``), or None."""
    m = source.scan(BANNER)
    return m.group(1).decode("ascii") if m else None
