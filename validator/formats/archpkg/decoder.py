"""Arch Linux packages: ``.pkg.tar.zst`` → zstd → tar → ``usr/lib/modules/V/vmlinuz``.

The compression layer decodes the package as a stream; this layer takes the tar archive
it holds when its first member (after a pax header) is makepkg's metadata. The walk reads
``.PKGINFO`` (pkgname, pkgbase, pkgver, arch), then the kernel's directory: ``pkgbase``
(the name mkinitcpio and kernel-install give the kernel), a ``build/.config`` and
``build/System.map`` when the package carries them (a custom kernel package; Arch's own
linux keeps them in linux-headers), which ``check`` uses as the config and System.map,
and stops at ``vmlinuz``: makepkg archives in C-locale order, so all of these come before
it, and the modules after it are never decoded (``DecodedView.to_end``). The kernel of
an older package, ``boot/vmlinuz-NAME``, is taken too.
"""

from __future__ import annotations

import re

from validator.catalogue import finding, rule
from validator.formats.archpkg import BLOCK, FIELDS, METADATA, USTAR, USTAR_OFFSET
from validator.formats.compression import layer_rules  # noqa: F401 (the layer/* rules)
from validator.formats.results import Unwrapped
from validator.io.limits import Context
from validator.model import Layer

KERNEL = (re.compile(r"^usr/lib/modules/(?P<v>[^/]+)/vmlinuz$"),
          re.compile(r"^boot/vmlinuz-(?P<v>[^/]+)$"))
#: The companions, by name (``ImageResult.companions``): their paths under
#: usr/lib/modules/V/.
COMPANIONS = {"config": "build/.config", "system_map": "build/System.map"}
_IN_MODULES = re.compile(r"^usr/lib/modules/(?P<v>[^/]+)/(?P<rest>pkgbase|build/\.config|"
                         r"build/System\.map)$")
MAX_PKGINFO = 64 * 1024
MAX_PKGBASE = 256

rule("archpkg/no-kernel", "error",
     "the Arch Linux package holds no kernel image (usr/lib/modules/V/vmlinuz)",
     "kimage reads an Arch Linux kernel package the way pacman installs it: the linux "
     "packages' PKGBUILD installs the kernel as usr/lib/modules/V/vmlinuz beside a pkgbase "
     "file, and mkinitcpio's and kernel-install's hooks copy it to /boot from there. A "
     "package without one is no kernel package (linux-headers, linux-firmware), or a tar "
     "archive kimage cannot read.",
     "Arch Linux core/linux PKGBUILD (6.6.1.arch1-1, _package); makepkg (pacman 6.0.2, "
     "create_package); mkinitcpio 37 hooks", ())


def probe(view) -> bool:
    """A decoded tar archive whose first member is makepkg's metadata."""
    if not view.transformed:
        return False
    pos = 0
    for _ in range(3):  # a pax or GNU long-name header may come first
        block = view.read(pos, BLOCK)
        if len(block) < BLOCK or block[USTAR_OFFSET:USTAR_OFFSET + len(USTAR)] != USTAR:
            return False
        kind = block[156:157]
        if kind not in (b"x", b"g", b"L"):
            name = block[:100].split(b"\0", 1)[0].decode("latin-1")
            return name.removeprefix("./") in METADATA
        size = _octal(block[124:136])
        if size is None or size > 1 << 20:
            return False
        pos += BLOCK + -(-size // BLOCK) * BLOCK
    return False


def _octal(field: bytes) -> int | None:
    text = field.split(b"\0", 1)[0].strip(b" ")
    try:
        return int(text or b"0", 8)
    except ValueError:
        return None


def unwrap(view, ctx: Context) -> Unwrapped:
    from validator.formats.deb import tar as tar_layer
    from validator.formats.deb.package import (
        MAX_COMPANION,
        package_limits,
        scan_banner,
    )

    layer = Layer("archpkg", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    d = layer.details
    package_limits(view, ctx.limits)
    if hasattr(view, "to_end"):
        view.to_end = False  # the modules after the kernel are not kimage's to decode
    walk = tar_layer.Walk(view)
    kept: dict[tuple[str, str], bytes] = {}  # (release, what) -> bytes
    chosen = None
    for _index, path, _raw, kind, offset, size, _link in walk.members():
        if path == ".PKGINFO" and kind == "file" and size <= MAX_PKGINFO:
            d.update(_pkginfo(tar_layer.read_all(view, offset, size)))
            continue
        m = _IN_MODULES.match(path)
        if m and kind == "file":
            what = m.group("rest")
            bound = MAX_PKGBASE if what == "pkgbase" else MAX_COMPANION[
                "config" if what.endswith(".config") else "system_map"]
            if size <= bound:
                kept[(m.group("v"), what)] = bytes(tar_layer.read_all(view, offset, size))
            continue
        for pattern in KERNEL:
            k = pattern.match(path)
            if k:
                chosen = (path, kind, offset, size, k.group("v"))
                break
        if chosen is not None:
            break
    d["members_seen"] = walk.count
    if walk.finding is not None:
        result.findings.append(walk.finding)
    if chosen is None:
        if walk.finding is None and not getattr(view, "failed", False):
            result.findings.append(finding(
                "archpkg/no-kernel", f"no usr/lib/modules/V/vmlinuz among the {walk.count} "
                f"members of the package"))
        return result
    d["complete"] = False  # the members after the kernel are not read
    path, kind, offset, size, release = chosen
    if kind != "file":
        result.findings.append(finding(
            "archpkg/no-kernel", f"{path} is a {kind}, not a file: pacman installs no "
            f"kernel there from this package"))
        return result
    d.update({"member": path, "member_offset": offset, "member_size": size,
              "kernel_release": release})
    pkgbase = kept.get((release, "pkgbase"))
    if pkgbase is not None:
        d["pkgbase_file"] = pkgbase.decode("utf-8", "replace").strip()
    for name, rest in COMPANIONS.items():
        data = kept.get((release, rest))
        if data is not None:
            d[f"{name}_member"] = f"usr/lib/modules/{release}/{rest}"
            result.companions[name] = data
    if size > ctx.limits.max_decompressed:
        result.findings.append(finding(
            "layer/decompression-limit", f"tar member {path}: {size:#x} bytes, more than "
            f"the {ctx.limits.max_decompressed:#x} kimage decodes of one kernel (the cap "
            f"on decompressed output)"))
        return result
    if ctx.limits.decode_all:
        banner = scan_banner(view, offset, size)
        if banner:
            result.facts["kernel_version"] = banner
    result.view = view.slice(offset, size)
    return result


def _pkginfo(data: bytes) -> dict[str, str]:
    """pkgname, pkgbase, pkgver and arch of a .PKGINFO (``key = value`` lines; the
    first of each key)."""
    out: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(" = ")
        if sep and key in FIELDS and FIELDS[key] not in out:
            out[FIELDS[key]] = value.strip()
    return out


#: What the pipeline tries: the tar archive below the package's compression layer.
