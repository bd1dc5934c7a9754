"""What a Debian package adds around its kernel, read in the one pass over data.tar.

* ``package_limits``: the bound on a package's data archive. A linux-image data.tar
  decodes to a few hundred MiB (Debian 12's arm64 6.1: 342.5 MiB, `xz --list`), over the
  per-decoder cap meant for one kernel stream; the archive gets ``MAX_ARCHIVE`` instead,
  with the same ratio (bomb) check, and the kernel member the per-decoder cap.
* ``Passing``: what the walk keeps of the members it passes, read while the stream is
  there (no second decode): the banner in each member of the kernel's path, the bytes of
  each ``boot/config-*`` and ``boot/System.map-*`` member (the last one kept, as dpkg
  installs the last).
* ``control``: Package, Version and Architecture from ``control.tar.*``'s ``control``
  file (deb(5): the ar member before data.tar), decoded bounded.
"""

from __future__ import annotations

import re

from validator import banner
from validator.io.limits import Limits, MiB

#: The decoded size of a package's data archive kimage reads (Debian's largest
#: linux-image data.tar is a few hundred MiB); the ratio check still applies.
MAX_ARCHIVE = 1024 * MiB
#: Largest companion file kept, by name: Debian's config is about 300 KB (an allyesconfig
#: .config under 400 KB), its System.map an 83-byte placeholder. Bounded so that what is
#: kept, beside the decoders' 36 MiB, leaves memory under 64 MiB.
MAX_COMPANION = {"config": 1 * MiB, "system_map": 4 * MiB}
#: Largest control.tar member read, and decoded control.tar walked.
MAX_CONTROL_TAR = 4 * MiB
MAX_CONTROL = 64 * 1024
#: Fields of DEBIAN/control reported, and their names in the layer's details.
FIELDS = {"Package": "package", "Version": "package_version",
          "Architecture": "architecture"}
READ = 512 * 1024


def package_limits(view, limits: Limits) -> None:
    """Give a decoded data archive the package bound (``MAX_ARCHIVE``, or a larger
    ``--max-decompressed``) in place of the per-decoder cap."""
    from validator.io.decoded import DecodedView

    if not isinstance(view, DecodedView):
        return
    bound = Limits(**{name: getattr(limits, name) for name in Limits.__slots__})
    bound.max_decompressed = max(MAX_ARCHIVE, limits.max_decompressed)
    view.limits = bound


def version_of(path: str) -> str | None:
    """V of ``boot/vmlinuz-V`` or ``usr/lib/modules/V/vmlinuz`` (the kernel release the
    package installs)."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[-3] == "modules":
        return parts[-2] or None
    name = parts[-1]
    head, sep, version = name.partition("-")
    return version if sep and version else None


class Passing:
    """What the walk keeps: ``banners`` (member index -> release in its banner, for the
    kernel path's file members), ``kept`` (companion name -> (member index, bytes))."""

    def __init__(self, view, cap: int):
        self.view = view
        self.cap = cap
        self.banners: dict[int, str | None] = {}
        self.kept: dict[str, tuple[int, bytes]] = {}

    def kernel(self, index: int, offset: int, size: int) -> None:
        if size <= self.cap:
            self.banners[index] = scan_banner(self.view, offset, size)

    def companion(self, name: str, index: int, offset: int, size: int) -> None:
        from validator.io.views import read_all

        self.kept.pop(name, None)
        if size > MAX_COMPANION[name]:
            return
        self.kept[name] = (index, bytes(read_all(self.view, offset, size)))

    def bytes_of(self, name: str, index: int) -> bytes | None:
        kept = self.kept.get(name)
        return kept[1] if kept is not None and kept[0] == index else None


def scan_banner(view, offset: int, size: int) -> str | None:
    """The release in the first ``Linux version`` banner of ``size`` bytes at ``offset``,
    read forward in the stream (a member kimage passes anyway)."""
    tail = b""
    pos = 0
    while pos < size:
        chunk = view.read(offset + pos, min(READ, size - pos))
        if not chunk:
            return None
        buf = tail + chunk
        m = banner.FINDER.search(buf)
        if m:
            return m.group(1).decode("ascii")
        tail = buf[-banner.MAX_MATCH:]
        pos += len(chunk)
    return None


_FIELD = re.compile(rb"^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*?)[ \t]*$", re.M)


def control(view, ctx, findings: list) -> dict[str, str]:
    """Package, Version, Architecture of the ``control.tar.*`` member in ``view``
    (decoded with the compression layer's decoder, bounded; {} when unreadable)."""
    from validator.formats.compression import decoder as compression
    from validator.formats.deb import tar as tar_layer

    if view.known_length is None or view.known_length > MAX_CONTROL_TAR:
        return {}
    inner = view
    if compression.probe(view):
        unwrapped = compression.unwrap(view, ctx)
        findings += unwrapped.findings
        if unwrapped.view is None:
            return {}
        inner = unwrapped.view
        inner.what = f"control.tar {inner.what}"  # its findings name the member
    walk = tar_layer.Walk(inner)
    found = None
    for _index, path, _raw, kind, offset, size, _link in walk.members():
        if walk.count > 64 or offset > MAX_CONTROL_TAR:
            break
        if path == "control" and kind == "file" and size <= MAX_CONTROL:
            found = tar_layer.read_all(inner, offset, size)
            break
    if found is None:
        return {}
    fields = {}
    for m in _FIELD.finditer(found):
        name = m.group(1).decode("ascii")
        if name in FIELDS and name not in fields:
            fields[name] = m.group(2).decode("utf-8", "replace")
    return {FIELDS[name]: value for name, value in fields.items()}
