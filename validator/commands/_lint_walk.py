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


def is_image_name(name: str) -> bool:
    """Does a file of this name look like a kernel image (case-sensitive, as /boot is)?"""
    return _NOT_IMAGE.match(name) is None and _IMAGE.match(name) is not None


class WalkError(Exception):
    """A PATH given on the command line cannot be walked (a usage error)."""


class Entry:
    """One path lint reports. ``real``: the resolved path of a link or of a file named on
    the command line (what may be found twice), else None; ``problem``: why it cannot be
    checked (then nothing else matters). A file found in a directory is held as the
    directory (one string for all its files) and its name: ``path`` joins them."""

    __slots__ = ("_where", "_name", "real", "link", "problem")

    def __init__(self, path: str, real: str | None = None, link: bool = False,
                 problem: str | None = None, name: str | None = None) -> None:
        self._where, self._name = path, name  # with ``name``, ``path`` is its directory
        self.real, self.link, self.problem = real, link, problem

    @property
    def path(self) -> str:
        return self._where if self._name is None else os.path.join(self._where, self._name)

    @property
    def pair_base(self) -> str:
        """The name companions are found beside: a link's target (``vmlinuz ->
        vmlinuz-V`` pairs with ``config-V``), else the path as given."""
        return self.real if self.link and self.real else self.path


class Found:
    """What a walk found: the entries in order, the resolved paths of the directories
    listed, and notes on what was folded (one line each)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
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
        names.reverse()
        while names:  # a directory of 100,000 images: each name goes as its entry comes
            name = names.pop()
            if name not in links:
                out.append(Entry(directory, name=name))
                continue
            path = os.path.join(directory, name)
            try:
                if stat.S_ISDIR(os.stat(path).st_mode):
                    continue  # a link to a directory is not followed
            except OSError as exc:
                out.append(_bad_link(path, exc))
                continue
            out.append(Entry(path, os.path.realpath(path), link=True))
        for name in reversed(subdirs):
            path = os.path.join(directory, name)
            try:
                listing = _list(path)
            except OSError as exc:
                listing = exc
            stack.append((path, os.path.join(real_dir, name), listing))


def _list(directory: str) -> tuple[list[str], set[str], list[str]]:
    """(the image names in ``directory``, sorted; those of them that are symbolic links;
    its subdirectories, sorted): names only, not a directory entry object for each of
    its files."""
    names: list[str] = []
    links: set[str] = set()
    subdirs: list[str] = []
    with os.scandir(directory) as it:
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
            names.append(name)
            if link:
                links.add(name)
    names.sort()
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
    entries = found.entries
    keep: dict[str, int] = {}  # resolved path -> index of the entry kept for it
    for i, e in enumerate(entries):
        if e.real is None or e.problem is not None:
            continue
        parent, name = os.path.split(e.real)
        if parent in found.walked and is_image_name(name):
            continue  # the walk has it as a plain entry
        j = keep.setdefault(e.real, i)
        if j != i and entries[j].link and not e.link:
            keep[e.real] = i
    kept = []
    for i, e in enumerate(entries):
        if e.real is None or e.problem is not None or keep.get(e.real) == i:
            kept.append(e)
            continue
        parent, name = os.path.split(e.real)
        into = (os.path.join(found.walked[parent], name) if e.real not in keep
                else entries[keep[e.real]].path)
        if into != e.path:
            found.notes.append(f"{e.path} is the same file as {into}: checked once, as "
                               f"{into}")
    found.entries = kept


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
