"""Debian packages (deb(5)): an ``ar`` archive whose ``data.tar.*`` holds
``boot/vmlinu[xz]-*``; and the tar archive inside (POSIX ustar). Constants, declared once.

``decoder`` takes both layers off on the check path (the ar layer, then the data.tar
layer), ``tar`` walks a tar archive's headers, bounded, ``package`` holds what a package
adds: the bound on its data archive, what the walk keeps of the members it passes (the
kernel's banner, the packaged config and System.map) and DEBIAN/control's fields.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

MAGIC = AR_MAGIC = b"!<arch>\n"
AR_HEADER = 60
USTAR = b"ustar"
USTAR_OFFSET = 257


def probe(view) -> bool:
    return view.read(0, 8) == AR_MAGIC


def tar_probe(view) -> bool:
    return view.read(USTAR_OFFSET, len(USTAR)) == USTAR


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((probe, None, "unwrap"), (tar_probe, None, "tar_unwrap"))
