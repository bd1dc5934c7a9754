"""What ``kimage lint`` checks: the walk of its PATHs, links folded, companions paired.

The walk never opens a file (it lists directories and stats names); it does not follow
symbolic links to directories (no loops, no escape from the tree); a symbolic link named
like an image is checked as the file it points to. A PATH on the command line that does
not exist or is a directory that cannot be listed is a usage error (``WalkError``); a
subdirectory that cannot be listed, and a link that points nowhere, is an entry with a
``problem``, which lint reports as a ``layer/unreadable`` result.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat

from validator.commands._lint_found import BLOCK, Entries, Entry, sorted_names

#: File names lint treats as kernel images when it walks a directory.
IMAGE_PATTERNS = ("vmlinuz*", "vmlinux*", "Image", "Image.*", "zImage*", "uImage*",
                  "*.efi", "linux-image-*.deb", "linux-binary-*.deb", "kernel*.rpm",
                  "linux*.pkg.tar.zst", "linux*.pkg.tar.xz", "*.itb", "fitImage*",
                  "boot*.img", "vendor_boot*.img")
NOT_IMAGES = ("*.sig", "*.sha256", "*.asc", "*.old", "*.json", "*.txt", "*.md", "*.cmd",
              "*.d", "vmlinux.o", "vmlinux.a", "vmlinux.symvers", "vmlinux.lds",
              "vmlinux-gdb.py", "bootloader*.img",
              # the kernel's packages that hold no kernel: sources, headers, modules, tools,
              # firmware, documentation (Fedora's kernel.spec and Arch's linux PKGBUILD
              # subpackages)
              "*.src.rpm", "kernel-devel*.rpm", "kernel-headers*.rpm", "kernel-modules*.rpm",
              "kernel-tools*.rpm", "kernel-doc*.rpm", "kernel-debug-devel*.rpm",
              "kernel-debuginfo*.rpm", "kernel-selftests*.rpm",
              "linux-headers*", "linux-*-headers-*", "linux-firmware*", "linux-api-headers*",
              "linux-docs*", "linux-*-docs-*")


def _one_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


_IMAGE = _one_pattern(IMAGE_PATTERNS)
_NOT_IMAGE = _one_pattern(NOT_IMAGES)


#: Patterns that name other files as well: each with what lint requires of a file that
#: only such a pattern names before it checks it (``lint.not_an_image``). /boot/efi holds
#: the boot loaders (GRUB, shim, systemd-boot: EFI applications); /boot/grub/i386-pc
#: holds GRUB's boot.img (its boot sector).
GENERIC = {"*.efi": "efi", "boot*.img": "android", "vendor_boot*.img": "android"}
_SPECIFIC = _one_pattern(tuple(p for p in IMAGE_PATTERNS if p not in GENERIC))
_GENERIC = {kind: _one_pattern(tuple(p for p, k in GENERIC.items() if k == kind))
            for kind in set(GENERIC.values())}


def is_image_name(name: str) -> bool:
    """Does a file of this name look like a kernel image (case-sensitive, as /boot is)?"""
    return _NOT_IMAGE.match(name) is None and _IMAGE.match(name) is not None


def generic_kind(name: str) -> str | None:
    """"efi" or "android" when only a ``GENERIC`` pattern names the file, else None."""
    if _SPECIFIC.match(name) is not None:
        return None
    return next((kind for kind, pattern in _GENERIC.items() if pattern.match(name)), None)


class WalkError(Exception):
    """A PATH given on the command line cannot be walked (a usage error)."""


class Found:
    """What a walk found: the entries in order (``Entries``), the resolved paths of the
    directories listed, and notes on what was folded (one line each)."""

    def __init__(self) -> None:
        self.entries = Entries()
        self.walked: dict[str, str] = {}  # resolved directory -> the path it was listed as
        self.notes: list[str] = []


def discover(paths: list[str]) -> Found:
    """Every image under ``paths`` in the order of discovery: each PATH in turn; in a
    directory its image files sorted by name, then its subdirectories, sorted, each
    walked the same way; a directory reached twice is walked once. A PATH that is not a
    directory is taken whatever its name. Then ``fold``."""
    found = Found()
    out = found.entries
    for top in paths:
        try:
            st = os.stat(top)
        except OSError as exc:
            if not os.path.islink(top):
                raise WalkError(f"{top}: {_reason(exc)}") from None
            out.append(_bad_link(top, exc))
            continue
        if not stat.S_ISDIR(st.st_mode):
            out.append(Entry(top, os.path.realpath(top), link=os.path.islink(top)))
            continue
        try:
            listing = _list(top)
        except OSError as exc:
            raise WalkError(f"{top}: cannot list the directory: {_reason(exc)}") from None
        _walk(top, os.path.realpath(top), listing, found)
    _fold(found)
    return found


def _walk(top: str, real_top: str, listing, found: Found) -> None:
    out = found.entries
    stack = [(top, real_top, listing)]
    while stack:
        directory, real_dir, entries = stack.pop()
        if isinstance(entries, OSError):
            out.append(Entry(directory, problem=f"{directory}: cannot list the "
                                                f"directory: {_reason(entries)}"))
            continue
        if real_dir in found.walked:
            if found.walked[real_dir] != directory:
                found.notes.append(f"{directory} is the same directory as "
                                   f"{found.walked[real_dir]}: walked once")
            continue
        found.walked[real_dir] = directory
        names, links, subdirs = entries
        batch: list[str] = []  # plain files, held compactly a block at a time
        for name in names:
            if name not in links:
                batch.append(name)
                if len(batch) == BLOCK:
                    out.add_names(directory, batch)
                    batch = []
                continue
            if batch:
                out.add_names(directory, batch)
                batch = []
            path = os.path.join(directory, name)
            try:
                if stat.S_ISDIR(os.stat(path).st_mode):
                    continue  # a link to a directory is not followed
            except OSError as exc:
                out.append(_bad_link(path, exc))
                continue
            out.append(Entry(path, os.path.realpath(path), link=True))
        if batch:
            out.add_names(directory, batch)
        for name in reversed(subdirs):
            path = os.path.join(directory, name)
            try:
                listing = _list(path)
            except OSError as exc:
                listing = exc
            stack.append((path, os.path.join(real_dir, name), listing))


def _list(directory: str):
    """(the image names in ``directory``, sorted, as an iterator: ``sorted_names``;
    those of them that are symbolic links; its subdirectories, sorted): names only, not
    a directory entry object for each of its files."""
    links: set[str] = set()
    subdirs: list[str] = []

    def images(it):
        for entry in it:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(name)
                    continue
                link = entry.is_symlink()
            except OSError:
                link = False
            if not is_image_name(name):
                continue
            if link:
                links.add(name)
            yield name

    with os.scandir(directory) as it:
        names = sorted_names(images(it))
    subdirs.sort()
    return names, links, subdirs


def _bad_link(path: str, exc: OSError) -> Entry:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    if exc.errno == errno.ENOENT:
        return Entry(path, link=True, problem=f"{path}: dangling symlink -> {target}")
    return Entry(path, link=True, problem=f"{path}: symlink -> {target}: {_reason(exc)}")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return (exc.strerror or str(exc)).lower()


def _fold(found: Found) -> None:
    """One entry per file. Only links and files named on the command line (those with
    ``real``) can repeat another entry: one whose file is a plain entry of a walked
    directory goes, in favour of the file's own name (``vmlinuz-V`` rather than the
    ``vmlinuz`` link to it); of the rest naming one file, a non-link is kept, else the
    first found."""
    blocks = found.entries.blocks
    keep: dict[str, int] = {}  # resolved path -> index of the block kept for it
    named = [(k, e) for k, e in enumerate(blocks)
             if type(e) is Entry and e.real is not None and e.problem is None]
    for k, e in named:
        parent, name = os.path.split(e.real)
        if parent in found.walked and is_image_name(name):
            continue  # the walk has it as a plain entry
        j = keep.setdefault(e.real, k)
        if j != k and blocks[j].link and not e.link:
            keep[e.real] = k
    dropped = set()
    for k, e in named:
        if keep.get(e.real) == k:
            continue
        dropped.add(k)
        parent, name = os.path.split(e.real)
        into = (os.path.join(found.walked[parent], name) if e.real not in keep
                else blocks[keep[e.real]].path)
        if into != e.path:
            found.notes.append(f"{e.path} is the same file as {into}: checked once, as "
                               f"{into}")
    if dropped:
        found.entries.drop(dropped)


def companions(image: str) -> tuple[str | None, str | None]:
    """(config, System.map) that belong to ``image``, when they exist beside it as
    regular files (anything else, a FIFO named ``config-V`` say, is not paired). A
    package pairs nothing beside it: it carries its own (``ImageResult.companions``)."""
    parent, name = os.path.split(image)
    if name.endswith((".deb", ".rpm", ".pkg.tar.zst", ".pkg.tar.xz")):
        return None, None
    for prefix in ("vmlinuz-", "vmlinux-"):
        if name.startswith(prefix):
            version = name[len(prefix):]
            return (_existing(os.path.join(parent, f"config-{version}")),
                    _existing(os.path.join(parent, f"System.map-{version}")))
    root = parent
    if os.path.basename(parent) == "boot":
        arch = os.path.dirname(os.path.dirname(parent))
        if os.path.basename(arch) == "arch":
            root = os.path.dirname(arch)  # <tree>/arch/<arch>/boot/Image
    return (_existing(os.path.join(root, ".config")),
            _existing(os.path.join(root, "System.map")))


def _existing(path: str) -> str | None:
    try:
        return path if stat.S_ISREG(os.stat(path).st_mode) else None
    except (OSError, ValueError):
        return None
