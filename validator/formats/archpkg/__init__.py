"""Arch Linux packages (``.pkg.tar.zst``): a tar archive, zstd-compressed, whose first
members are makepkg's metadata (``.BUILDINFO``, ``.MTREE``, ``.PKGINFO``) and whose kernel
package holds ``usr/lib/modules/V/vmlinuz`` and ``usr/lib/modules/V/pkgbase``. Constants,
declared once.

``decoder`` reads the tar layer below the compression layer (probe: a metadata member
first), ``samples`` builds packages for the seed corpus.

Facts from makepkg (pacman 6.0.2: scripts/makepkg.sh.in ``create_package``: the file list
sorted in the C locale, dot files first, archived by bsdtar, compressed per PKGEXT;
``write_pkginfo``: ``key = value`` lines) and Arch's core/linux PKGBUILD (6.6.1.arch1-1
``_package``: vmlinuz and pkgbase installed in usr/lib/modules/$modulesdir); nothing is
copied.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

#: A ``.pkg.tar.zst`` starts as every zstd frame does (PKGEXT's default since pacman
#: 5.2); what makes it a package is makepkg's metadata first in the tar inside
#: (``decoder.probe``).
MAGIC = b"\x28\xb5\x2f\xfd"
#: The members makepkg writes first (C-locale order: "." sorts before letters).
METADATA = (".BUILDINFO", ".MTREE", ".PKGINFO", ".INSTALL", ".CHANGELOG")
#: tar's "ustar" magic and where it sits in a header block.
USTAR = b"ustar"
USTAR_OFFSET = 257
BLOCK = 512
#: .PKGINFO keys reported, and their names in the layer's details.
FIELDS = {"pkgname": "package", "pkgbase": "pkgbase", "pkgver": "package_version",
          "arch": "architecture"}


def ustar(view) -> bool:
    """A decoded stream whose first 512-byte block is a ustar header (the decoder's
    ``probe`` then looks for makepkg's metadata member). The whole block is read, as
    the probe reads it: how far a decoded stream has been read decides whether a stream
    nested in it already knows its compressed size when it is unwrapped."""
    return view.transformed and view.read(0, BLOCK)[USTAR_OFFSET:USTAR_OFFSET + len(USTAR)] == USTAR


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((ustar, "probe", "unwrap"),)
