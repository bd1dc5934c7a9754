"""The cpio layer of an rpm payload: walk the members as far as the kernel the header
named, keep its companions on the way, hand on the kernel's member.

rpm writes the payload in the header's file order (sorted by path), so
``lib/modules/V/System.map`` and ``config`` come before ``vmlinuz``, as ``boot/config-V``
and ``boot/System.map-V`` before ``boot/vmlinuz-V``; a companion after the kernel is
named but not read. The walk stops at the kernel: the decoded payload (a kernel-modules
package's is hundreds of MiB) is never decoded past it, even by ``check``
(``DecodedView.to_end``), under the package bound of a Debian data.tar
(``validator.formats.deb.package.MAX_ARCHIVE``) instead of the per-kernel cap. With
``Limits.decode_all`` (check) the kernel member's banner is read as the stream passes it,
as a Debian package's tar layer does (the pipeline's own search reads only the first
768 KiB of the input through a decoder).
"""

from __future__ import annotations

from validator.catalogue import finding
from validator.formats.deb.package import MAX_COMPANION, package_limits, scan_banner
from validator.formats.results import Unwrapped
from validator.formats.rpm import cpio
from validator.io.views import read_all
from validator.model import Layer


def unwrap(view, ctx, target) -> Unwrapped:
    layer = Layer("cpio", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    d = layer.details
    package_limits(view, ctx.limits)
    if hasattr(view, "to_end"):
        view.to_end = False  # the members after the kernel are not kimage's to decode
    wanted = {path: name for name, path in target.companions.items()}
    walk = cpio.Walk(view, target.stripped)
    chosen = None
    linked = None  # the kernel's inode while its data is still to come (a hard link set)
    for _index, path, _mode, size, offset, ino, nlink in walk.members():
        name = wanted.get(path)
        if name is not None:
            d[f"{name}_member"] = path
            d[f"{name}_size"] = size
            if size > MAX_COMPANION[name]:
                d[f"{name}_unread"] = f"larger than the {MAX_COMPANION[name]:#x} bytes kept"
            else:
                result.companions[name] = bytes(read_all(view, offset, size))
        if path == target.kernel or (linked is not None and ino == linked):
            if size == 0 and nlink > 1:
                linked = ino  # rpm writes a hard-linked set's data with its last member
                continue
            chosen = (path, offset, size)
            break
    d["members_seen"] = walk.count
    if not walk.ended:
        d["complete"] = False  # members after the kernel are not read
    if walk.finding is not None:
        result.findings.append(walk.finding)
    for name, path in target.companions.items():
        if f"{name}_member" not in d:
            d[f"{name}_unread"] = f"{path} is not before the kernel in the payload"
    if chosen is None:
        if walk.finding is None and not getattr(view, "failed", False):
            result.findings.append(finding(
                "rpm/no-kernel", f"the header lists {target.kernel}, the payload's "
                f"{walk.count} members do not hold it"))
        return result
    path, offset, size = chosen
    d.update({"member": path, "member_offset": offset, "member_size": size,
              "kernel_release": target.release})
    if target.size and size != target.size:
        result.findings.append(finding(
            "rpm/payload-mismatch", f"{path}: {size:#x} bytes in the payload, the header "
            f"lists {target.size:#x}"))
    if size > ctx.limits.max_decompressed:
        result.findings.append(finding(
            "layer/decompression-limit", f"cpio member {path}: {size:#x} bytes, more than "
            f"the {ctx.limits.max_decompressed:#x} kimage decodes of one kernel (the cap "
            f"on decompressed output)"))
        return result
    if ctx.limits.decode_all:  # check: the banner, read forward as the stream passes
        release = scan_banner(view, offset, size)  # (a compressed kernel: the pipeline's
        if release:  # own search, inside its stream)
            result.facts["kernel_version"] = release
    result.view = view.slice(offset, size)
    return result
