"""What an rpm header says of its files: the kernel a package installs and its companions.

The file list is DIRNAMES[DIRINDEXES[i]] + BASENAMES[i] with FILESIZES (LONGFILESIZES
for large files), FILEMODES and FILEFLAGS (docs/manual/tags.md); a file flagged
``%ghost`` (RPMFILE_GHOST, 1 << 6 in lib/rpmfiles.h) is owned but not in the payload, as
Fedora's kernel-core owns /boot/vmlinuz-V while its payload holds /lib/modules/V/vmlinuz
(kernel.spec installs it there; kernel-install copies it to /boot).
"""

from __future__ import annotations

import posixpath
import re

from validator.formats.rpm import (
    BASENAMES,
    DIRINDEXES,
    DIRNAMES,
    FILEMODES,
    FILESIZES,
    LONGFILESIZES,
)

FILEFLAGS = 1037
GHOST = 1 << 6
S_IFMT, S_IFREG = 0o170000, 0o100000

#: The kernel a package installs, by path (normalised, no leading "/"): group "v" is the
#: kernel release. Fedora/RHEL kernel-core (and kernel-uki-virt's vmlinuz-virt.efi, a
#: UKI), then a /boot kernel (SUSE, older packages).
KERNEL = (re.compile(r"^(?:usr/)?lib/modules/(?P<v>[^/]+)/vmlinuz(?:-[^/]+\.efi)?$"),
          re.compile(r"^boot/vmlinu[xz]-(?P<v>.+)$"))
#: Its companions, by name (``ImageResult.companions``): paths for release V.
COMPANIONS = {"config": ("lib/modules/{v}/config", "usr/lib/modules/{v}/config",
                         "boot/config-{v}"),
              "system_map": ("lib/modules/{v}/System.map", "usr/lib/modules/{v}/System.map",
                             "boot/System.map-{v}")}


class Target:
    """What the cpio layer looks for: ``kernel`` (path), ``size`` (its declared size),
    ``release``, ``companions`` (name -> path), ``stripped`` (index -> (path, size, mode)
    for a stripped payload, or None)."""

    __slots__ = ("kernel", "size", "release", "companions", "stripped", "count")

    def __init__(self):
        self.kernel: str | None = None
        self.size = 0
        self.release: str | None = None
        self.companions: dict[str, str] = {}
        self.stripped = None
        self.count = 0


def normalise(path: str) -> str:
    return posixpath.normpath("/" + path).lstrip("/")


def target(header) -> Target:
    """The kernel and companions the header's file list names (``HeaderError`` when the
    list is malformed)."""
    from validator.formats.rpm.header import HeaderError

    t = Target()
    base = header.strings(BASENAMES) or []
    dirs = header.strings(DIRNAMES) or []
    index = header.ints(DIRINDEXES) or []
    sizes = header.ints(LONGFILESIZES) or header.ints(FILESIZES) or []
    modes = header.ints(FILEMODES) or []
    flags = header.ints(FILEFLAGS) or []
    n = len(base)
    t.count = n
    if not (len(index) == n and len(sizes) in (0, n) and len(modes) in (0, n)
            and len(flags) in (0, n)) or any(i >= len(dirs) for i in index):
        raise HeaderError("rpm/bad-header", f"header: its file list does not add up ({n} "
                          f"names, {len(index)} directory indexes into {len(dirs)} "
                          f"directories, {len(sizes)} sizes, {len(modes)} modes)")
    paths = [normalise(dirs[index[i]] + base[i]) for i in range(n)]
    have = {}
    for i, path in enumerate(paths):
        ghost = bool(flags and flags[i] & GHOST)
        regular = not modes or (modes[i] & S_IFMT) == S_IFREG
        if not ghost and regular:
            have[path] = i
        if t.kernel is None and not ghost and regular:
            for pattern in KERNEL:
                m = pattern.match(path)
                if m:
                    t.kernel, t.release = path, m.group("v")
                    t.size = sizes[i] if sizes else 0
                    break
    if t.release is not None:
        for name, forms in COMPANIONS.items():
            for form in forms:
                if form.format(v=t.release) in have:
                    t.companions[name] = form.format(v=t.release)
                    break
    if LONGFILESIZES in header:
        t.stripped = lambda i: ((paths[i], sizes[i], modes[i] if modes else S_IFREG)
                                if 0 <= i < n else None)
    return t
