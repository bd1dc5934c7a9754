"""tar archives (a package's ``data.tar``): the kernel that dpkg installs, read bounded.

The headers are walked with ``tarfile`` (random access over the view: member data is
skipped, never extracted). Two things are added around it:

* A guard, before ``tarfile`` reads each header: the extended headers it reads whole into
  memory (pax ``x``/``g``/``X``, GNU long name ``L`` and long link ``K``) may be at most
  ``MAX_EXTENDED`` bytes, at most ``MAX_CHAIN`` of them may precede a member (``tarfile``
  follows them recursively), an old GNU sparse header at most ``MAX_SPARSE_BLOCKS``
  extension blocks, and a pax sparse map is not followed. Beyond, the walk stops with
  ``layer/tar-header-limit``.
* What dpkg installs for a path (lib/dpkg/tarfn.c tar_extractor, src/main/archives.c
  tarobject): members are extracted in order, so a later member of the same path replaces
  an earlier one; a hard link (type 1) gets the content its target has at that point;
  symbolic links are created after every other member, so a symlink member of a path
  wins over any file of that path, and the kernel is then what the link points to inside
  the package. A hard link or symlink is resolved by walking the archive again (at most
  ``MAX_HOPS`` times); memory holds the state of one path at a time.
"""

from __future__ import annotations

import posixpath

from validator.catalogue import finding, rule
from validator.formats.compression import layer_rules  # noqa: F401 (the layer/* rules)
from validator.io.views import ViewFile, read_all

BLOCK = 512
#: The largest pax or GNU long-name header read (a path, a link target, a few xattrs).
MAX_EXTENDED = 1 << 20
#: Extended headers before one member (a real archive has at most x, L and K).
MAX_CHAIN = 8
#: Extension blocks of an old GNU sparse header (21 map entries each).
MAX_SPARSE_BLOCKS = 64
#: Members walked before the walk stops.
MAX_MEMBERS = 100_000
#: Hard links and symlinks followed from the kernel's path.
MAX_HOPS = 4
EXTENDED = {b"x": "pax", b"g": "pax global", b"X": "Solaris pax", b"L": "GNU long-name",
            b"K": "GNU long-link"}

rule("layer/tar-header-limit", "error",
     "a tar header is larger or more deeply chained than kimage reads",
     "A pax or GNU long-name header holds a path, a link target and a few attributes: a "
     "few hundred bytes. kimage reads at most 1 MiB of one, at most 8 before a member, "
     "and follows no sparse map (dpkg installs no sparse member), so that a forged size "
     "cannot make it read hundreds of megabytes into memory; the walk stops there and "
     "kimage does not vouch for the rest of the archive.",
     "POSIX.1-2001 pax extended header; GNU tar manual 'GNU tar format'; "
     "dpkg lib/dpkg/tarfn.c tar_extractor",
     ())


class Walk:
    """One pass over an archive: ``members()`` yields ``(index, path, raw name, kind,
    offset, size, link)``, kind one of "file", "hardlink", "symlink", "other". Afterwards
    ``count`` is the number of members, ``finding`` the finding that stopped it (or None),
    ``stopped`` True when the stream under it stopped (its decoder's finding says why)."""

    def __init__(self, view):
        self.view = view
        self.count = 0
        self.finding = None
        self.stopped = False

    def members(self):
        import tarfile

        view = self.view
        try:
            if self._guarded(0):
                return
            tf = tarfile.open(fileobj=ViewFile(view), mode="r:")  # noqa: SIM115
            while True:
                if self._guarded(tf.offset):
                    return
                member = tf.next()
                tf.members = []  # keep no list of what was passed
                if member is None:
                    break
                self.count += 1
                if self.count > MAX_MEMBERS:
                    self.finding = finding("layer/decompression-limit", f"more than "
                                           f"{MAX_MEMBERS} tar members")
                    return
                yield (self.count, normalise(member.name), member.name, _kind(member),
                       member.offset_data, member.size, member.linkname)
        except tarfile.ReadError as exc:
            if not getattr(view, "failed", False):
                text = str(exc)
                rule_id = "layer/truncated" if "unexpected end" in text else "layer/corrupt"
                self.finding = finding(rule_id, f"tar archive after {self.count} members: "
                                       f"{text}")
        finally:
            self.stopped = bool(getattr(view, "failed", False))

    def _guarded(self, pos: int) -> bool:
        message = guard(self.view, pos)
        if message is not None:
            self.finding = finding("layer/tar-header-limit",
                                   f"tar header at {pos:#x} (after {self.count} members): "
                                   f"{message}", offset=pos)
        return message is not None


def guard(view, pos: int) -> str | None:
    """Why ``tarfile`` must not read the header chain at ``pos``, or None."""
    for _ in range(MAX_CHAIN + 1):
        block = view.read(pos, BLOCK)
        if len(block) < BLOCK or not block.strip(b"\0"):
            return None  # the end, or cut short: tarfile says which
        kind = block[156:157]
        size = number(block[124:136])
        if size is None:
            return None  # tarfile reports the invalid header
        if kind == b"S":
            return _sparse(view, pos, block)
        if kind not in EXTENDED:
            return None
        if size > MAX_EXTENDED:
            return (f"a {EXTENDED[kind]} header of {size:#x} bytes, more than the "
                    f"{MAX_EXTENDED:#x} kimage reads of one")
        if kind in b"xgX" and b"GNU.sparse." in read_all(view, pos + BLOCK, size):
            return "a pax header describing a GNU sparse member (dpkg installs none)"
        pos += BLOCK + -(-size // BLOCK) * BLOCK
    return f"more than {MAX_CHAIN} extended headers before one member"


def _sparse(view, pos: int, block: bytes) -> str | None:
    extended = block[482]
    count = 0
    while extended:
        count += 1
        if count > MAX_SPARSE_BLOCKS:
            return (f"an old GNU sparse header with more than {MAX_SPARSE_BLOCKS} extension "
                    f"blocks")
        ext = view.read(pos + count * BLOCK, BLOCK)
        if len(ext) < BLOCK:
            return None
        extended = ext[504]
    return None


def number(field: bytes) -> int | None:
    """A ustar numeric field: octal text, or GNU base-256 (first byte 0x80); None if
    invalid or negative."""
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    if field[:1] == b"\xff":
        return None
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        return None


def normalise(name: str) -> str:
    """An archive path as dpkg places it: relative to the root, "./" and "//" folded."""
    return posixpath.normpath("/" + name).lstrip("/")


def _kind(member) -> str:
    import tarfile

    if member.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE):
        return "file"
    if member.type == tarfile.LNKTYPE:
        return "hardlink"
    if member.type == tarfile.SYMTYPE:
        return "symlink"
    return "other"


class Installed:
    """What dpkg leaves at one path: fed the members of that path in order (``see``),
    then ``kind`` is "file" (``offset``, ``size`` and raw ``name`` of the member whose
    bytes it has), "hardlink" (to ``link``, made at member ``index``), "symlink" (to
    ``link``), "other", or None (no member of that path); ``members`` counts them. With
    ``before`` (a hard link made at that member) symlinks do not exist yet: dpkg creates
    them after every other member."""

    __slots__ = ("kind", "offset", "size", "link", "members", "name", "index", "before",
                 "_symlink")

    def __init__(self, before: int | None = None) -> None:
        self.kind: str | None = None
        self.offset = self.size = self.index = 0
        self.link = self.name = ""
        self.members = 0
        self.before = before
        self._symlink: tuple | None = None

    def see(self, index: int, raw: str, kind: str, offset: int, size: int,
            link: str) -> None:
        self.members += 1
        if kind == "symlink":
            if self.before is None:
                self._symlink = (index, raw, link)
            return
        self.kind, self.index, self.name, self.offset, self.size, self.link = (
            kind, index, raw, offset, size, link)

    def done(self) -> Installed:
        if self._symlink is not None:
            self.kind = "symlink"
            self.index, self.name, self.link = self._symlink
        return self


def installed(walk: Walk, path: str, before: int | None = None,
              first: bool = False) -> Installed:
    """Walk the archive once and return what dpkg installs at ``path`` (as it stands
    just before member ``before``, when given; ``first``: its first member only)."""
    state = Installed(before)
    for index, name, raw, kind, offset, size, link in walk.members():
        if before is not None and index >= before:
            break
        if name == path:
            state.see(index, raw, kind, offset, size, link)
            if first:
                break
    return state.done()


def symlink_target(path: str, link: str) -> str | None:
    """The archive path a symlink at ``path`` to ``link`` names, None if outside."""
    if link.startswith("/"):
        return normalise(link)
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
    if joined == ".." or joined.startswith("../"):
        return None
    return normalise(joined)
