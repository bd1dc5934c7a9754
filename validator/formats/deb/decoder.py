"""Debian packages: ``ar`` → ``data.tar.{xz,zst,gz,bz2}`` → ``boot/vmlinu[xz]-*``.

``kimage inspect linux-image-*.deb`` reaches the kernel without unpacking to disk: the ar
archive (deb(5): "!<arch>\\n", 60-byte member headers, "debian-binary" first) is read in
place, ``data.tar.*`` is decoded by the compression layer as a stream, and the tar
archive's headers are walked (``validator.formats.deb.tar``: bounded, member data skipped,
never extracted). The kernel is the first path ``boot/vmlinuz-*`` or ``boot/vmlinux-*``
(Debian's packages hold one; the choice is recorded) as dpkg installs it: the last member
of that path, a hard link's target content, a symlink's target in the package. The
``boot/config-*`` and ``boot/System.map-*`` files, as installed, are named in the layer
and handed on as the ``config`` and ``system_map`` companions, which ``check`` uses when
no ``--config`` or ``--system-map`` is given; the kernel's banner, read as the walk passes
it, is the ``kernel_version`` fact; ``control.tar.*`` gives Package, Version and
Architecture (``validator.formats.deb.package``).
"""

from __future__ import annotations

import re

from validator.catalogue import finding, rule
from validator.formats.compression import layer_rules  # noqa: F401 (the layer/* rules)
from validator.formats.deb import AR_HEADER, AR_MAGIC, package
from validator.formats.deb import tar as tar_layer
from validator.formats.results import Unwrapped
from validator.io.limits import Context
from validator.model import Layer

MAX_MEMBERS = 64  # a .deb has three; more is no package
#: The kernel's path, as tar.normalise gives it: ``boot/vmlinu[xz]-V`` (Debian to 6.x),
#: ``usr/lib/modules/V/vmlinu[xz]`` (Debian's linux-binary-V packages from Linux 7.x,
#: whose linux-image-V is a metapackage and linux-base-V holds config and System.map).
KERNEL = re.compile(r"^(?:boot/vmlinu[xz]-|(?:usr/)?lib/modules/[^/]+/vmlinu[xz]$)")
#: The packaged companions handed on to check (``ImageResult.companions``), by path.
COMPANIONS = {"config": re.compile(r"^(?:boot/config-|(?:usr/)?lib/modules/[^/]+/config$)"),
              "system_map": re.compile(
                  r"^(?:boot/System\.map-|(?:usr/)?lib/modules/[^/]+/System\.map$)")}
#: What a kernel metapackage's data.tar holds: documentation and bug-reporting files only,
#: some of them named for the linux-image package (Debian's linux-image-V from 7.x).
META_ONLY = re.compile(r"^usr/share/(?:doc|bug|lintian)/")
META_NAMED = re.compile(r"^usr/share/(?:doc|bug|lintian/overrides)/linux-image-")

rule("deb/no-kernel", "error",
     "the package holds no kernel image (boot/vmlinuz-* or boot/vmlinux-*)",
     "kimage reads a Debian kernel package the way its maintainer scripts install it: the "
     "kernel is data.tar's boot/vmlinuz-VERSION (boot/vmlinux-VERSION on ppc64el). A package "
     "without one is no kernel package, or a data.tar kimage cannot read.",
     "deb(5); Debian kernel handbook, 'linux-image-* package contents'",
     ())
rule("deb/metapackage", "info",
     "the package holds no kernel: a linux-image metapackage (documentation files only)",
     "From Linux 7.x Debian's linux-image-VERSION is a metapackage: it depends on "
     "linux-binary-VERSION, which holds usr/lib/modules/VERSION/vmlinuz, and on "
     "linux-base-VERSION and linux-modules-VERSION. No loader is asked to load it; check the "
     "linux-binary package.",
     "Debian unstable linux-signed-arm64 7.2.13-1: linux-image-7.2.13+deb14-arm64 (1884 "
     "bytes, usr/share/{doc,bug,lintian} only), linux-binary-7.2.13+deb14-arm64 "
     "(usr/lib/modules/7.2.13+deb14-arm64/vmlinuz)",
     ())
rule("deb/kernel-companions", "info",
     "the package holds the kernel's config or System.map, not the kernel",
     "From Linux 7.x Debian splits a kernel into linux-binary-VERSION (the image, "
     "usr/lib/modules/VERSION/vmlinuz) and linux-base-VERSION (usr/lib/modules/VERSION/config, "
     "System.map and the device trees). The companion package is no kernel and no loader "
     "reads it; pass its config to the check of the linux-binary package (--config).",
     "Debian unstable linux-signed-arm64 7.2.13-1: linux-base-7.2.13+deb14-arm64 "
     "(usr/lib/modules/7.2.13+deb14-arm64/config, System.map, dtb/)",
     ())


def unwrap(view, ctx: Context) -> Unwrapped:
    """The ar layer: find ``data.tar.*`` and hand on that member."""
    layer = Layer("deb", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    length = view.known_length
    members = []
    pos = len(AR_MAGIC)
    data = control = None
    while len(members) < MAX_MEMBERS:
        head = view.read(pos, AR_HEADER)
        if not head:
            break
        if len(head) < AR_HEADER or head[58:60] != b"`\n":
            result.findings.append(finding(
                "layer/truncated" if len(head) < AR_HEADER else "layer/corrupt",
                f"ar member header at {pos:#x} is cut short or malformed", offset=pos))
            return result
        name = head[:16].decode("latin-1").rstrip().rstrip("/")
        try:
            size = int(head[48:58].decode("ascii").strip() or "0")
        except ValueError:
            result.findings.append(finding("layer/corrupt", f"ar member {name!r}: size field "
                                           f"{head[48:58]!r} is no number", offset=pos + 48))
            return result
        start = pos + AR_HEADER
        members.append({"name": name, "offset": start, "size": size})
        if length is not None and start + size > length:
            layer.details["members"] = members
            result.findings.append(finding(
                "layer/lying-size", f"ar member {name!r} declares {size:#x} bytes at "
                f"{start:#x}, the file has {length:#x}", offset=pos + 48))
            return result
        if name.startswith("data.tar") and data is None:
            data = members[-1]
        if name.startswith("control.tar") and control is None and data is None:
            control = members[-1]
        pos = start + size + (size & 1)
    layer.details["members"] = members
    if members and members[0]["name"] != "debian-binary":
        layer.details["not_a_deb"] = True
    if data is None:
        result.findings.append(finding("deb/no-kernel", "no data.tar.* member in the ar "
                                       "archive", offset=0))
        return result
    layer.details["data_member"] = data["name"]
    if control is not None:
        fields = package.control(view.slice(control["offset"], control["size"]), ctx,
                                 result.findings)
        layer.details.update(fields)
    result.view = view.slice(data["offset"], data["size"])
    return result


def tar_unwrap(view, ctx: Context) -> Unwrapped:
    """The tar layer: walk the whole archive; hand on the kernel dpkg would install.
    Without ``Limits.decode_all`` (inspect, which decodes only what it reads) the walk
    stops at the kernel path's first member: a real package's data.tar is hundreds of MiB.
    With it, the one pass also keeps what the pipeline would read again from the stream:
    the kernel's banner and the packaged config and System.map (``members.Passing``)."""
    layer = Layer("tar", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    d = layer.details
    whole = ctx.limits.decode_all
    package.package_limits(view, ctx.limits)
    walk = tar_layer.Walk(view)
    seen = package.Passing(view, ctx.limits.max_decompressed)
    kernel = None
    state = tar_layer.Installed()
    paths = dict.fromkeys(COMPANIONS)
    states = {name: tar_layer.Installed() for name in COMPANIONS}
    other = 0  # file members a metapackage would not hold
    named = False  # a member named for a linux-image package
    for index, path, raw, kind, offset, size, link in walk.members():
        if kind == "file" and not META_ONLY.match(path):
            other += 1
        named = named or META_NAMED.match(path) is not None
        if kernel is None and kind != "other" and KERNEL.match(path):
            kernel = path
        if path == kernel:
            state.see(index, raw, kind, offset, size, link)
            if not whole:
                break
            if kind == "file":
                seen.kernel(index, offset, size)
        for name, pattern in COMPANIONS.items():
            if paths[name] is None and kind == "file" and pattern.match(path):
                paths[name] = path
            if path == paths[name]:
                states[name].see(index, raw, kind, offset, size, link)
                if kind == "file" and whole:
                    seen.companion(name, index, offset, size)
    d["members_seen"] = walk.count
    if walk.finding is not None:
        result.findings.append(walk.finding)
    if walk.stopped or not whole:
        d["complete"] = False  # later members unseen (a stopped stream's finding says why)
    for name in COMPANIONS:
        _companion(view, name, states[name].done(), seen, result)
    if kernel is None:
        if walk.finding is None:
            result.findings.append(_no_kernel_finding(d, walk.count, other, named))
        return result
    state.done()
    d["member"] = state.name
    if state.members > 1:
        d["members_of_path"] = state.members
    selected = f"the first kernel path ({kernel})"
    if state.members > 1 and state.kind == "symlink":
        selected += (f", of its {state.members} members the symlink (dpkg creates symlinks "
                     f"after every other member)")
    elif state.members > 1:
        selected += f", the last of its {state.members} members (dpkg installs the last)"
    if not whole:
        selected += "'s first member (inspect reads no further; check reads the whole archive)"
    chosen, how = _resolve(view, kernel, state, result, whole)
    if chosen is None:
        return result
    d["selected"] = selected + "".join(how)
    d.update({"member_size": chosen.size, "member_offset": chosen.offset})
    d["kernel_release"] = package.version_of(kernel)
    if how:
        d["content_member"] = chosen.name
    if view.transformed and chosen.size > ctx.limits.max_decompressed:
        result.findings.append(finding(
            "layer/decompression-limit", f"tar member {chosen.name}: {chosen.size:#x} "
            f"bytes, more than the {ctx.limits.max_decompressed:#x} kimage decodes of one "
            f"kernel (the cap on decompressed output)"))
        return result
    if seen.banners.get(chosen.index):  # else (a compressed member, say) the pipeline's
        result.facts["kernel_version"] = seen.banners[chosen.index]  # own search
    result.view = view.slice(chosen.offset, chosen.size)
    length = getattr(view, "known_length", None)
    if length is not None and chosen.offset + chosen.size > length:
        result.findings.append(finding(
            "layer/lying-size", f"tar member {chosen.name} declares {chosen.size:#x} bytes, "
            f"the archive ends before"))
    return result


def _no_kernel_finding(d: dict, count: int, other: int, named: bool):
    """Why a whole data archive holds no kernel: a linux-image metapackage, a package of
    the kernel's companions (both info: no loader reads them), else ``deb/no-kernel``."""
    held = [d[f"{name}_member"] for name in COMPANIONS
            if "lib/modules/" in d.get(f"{name}_member", "")]  # linux-base-V's, not boot/
    if held:
        return finding("deb/kernel-companions", f"no kernel; it holds {', '.join(held)} "
                       f"(the kernel is in another package of the same version)")
    if not other and named:
        return finding("deb/metapackage", f"no kernel: its {count} members are directories "
                       f"and a linux-image package's usr/share/{{doc,bug,lintian}} files")
    return finding("deb/no-kernel", f"no kernel image (boot/vmlinu[xz]-* or "
                   f"usr/lib/modules/*/vmlinu[xz]) among the {count} members of the data "
                   f"archive")


def _resolve(view, path: str, state, result: Unwrapped, whole: bool):
    """Follow hard links and symlinks from the kernel's path to the member whose bytes
    are installed there: (that state or None, what was followed)."""
    how: list[str] = []
    for _ in range(tar_layer.MAX_HOPS + 1):
        if state.kind == "file":
            return state, how
        if state.kind == "hardlink":
            target = tar_layer.normalise(state.link)
            how.append(f", a hard link to {target}")
            walk = tar_layer.Walk(view)
            state, path = tar_layer.installed(walk, target, before=state.index), target
            missing = "is no file in the archive before the link"
        elif state.kind == "symlink":
            target = tar_layer.symlink_target(path, state.link)
            how.append(f", a symlink to {state.link}")
            if target is None:
                return _no_kernel(result, path, f"is a symlink to {state.link}, outside the "
                                  f"package: the kernel installed is not in it")
            walk = tar_layer.Walk(view)
            state, path = tar_layer.installed(walk, target, first=not whole), target
            missing = "is not in the package"
        else:
            return _no_kernel(result, path, "is not a regular file (dpkg installs no kernel "
                              "there)")
        if walk.finding is not None:
            result.findings.append(walk.finding)
        if state.kind is None:
            return _no_kernel(result, path, f"{missing}{''.join(how)}")
    return _no_kernel(result, path, f"more than {tar_layer.MAX_HOPS} links{''.join(how)}")


def _no_kernel(result: Unwrapped, path: str, why: str):
    result.findings.append(finding("deb/no-kernel", f"{path} {why}"))
    return None, []


def _companion(view, name: str, state, seen, result: Unwrapped) -> None:
    """A packaged companion (``boot/config-*``, ``boot/System.map-*``) as installed,
    handed on by ``name``: the bytes kept in the pass (check), or read now (inspect)."""
    if state.kind != "file":
        return
    d = result.layer.details
    d[f"{name}_member"] = state.name
    d[f"{name}_size"] = state.size
    if state.size > package.MAX_COMPANION[name]:
        d[f"{name}_unread"] = f"larger than the {package.MAX_COMPANION[name]:#x} bytes kept"
        return
    data = seen.bytes_of(name, state.index)
    if data is None:
        data = bytes(tar_layer.read_all(view, state.offset, state.size))
    result.companions[name] = data


#: What the pipeline tries, in order (``validator.formats.FORMATS``): the ar layer,
#: then the data.tar inside it.
