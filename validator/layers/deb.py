"""Debian packages: ``ar`` → ``data.tar.{xz,zst,gz,bz2}`` → ``boot/vmlinu[xz]-*``.

``kimage inspect linux-image-*.deb`` reaches the kernel without unpacking to disk: the ar
archive (deb(5): "!<arch>\\n", 60-byte member headers, "debian-binary" first) is read in
place, ``data.tar.*`` is decoded by the compression layer as a stream, and the tar
archive is walked with ``tarfile`` in streaming mode ("r|") over that stream; member data
is skipped, never extracted. The first ``boot/vmlinuz-*`` or ``boot/vmlinux-*`` member is
taken (Debian's packages hold one; the choice is recorded), and the ``boot/config-*``
member met before it is named in the layer and handed on as the ``config`` companion,
which ``check`` uses when no ``--config`` is given.
"""

from __future__ import annotations

import re

from validator.layers import Context, Unwrapped, ViewFile
from validator.model import Layer
from validator.rules.registry import finding, rule

AR_MAGIC = b"!<arch>\n"
AR_HEADER = 60
MAX_MEMBERS = 64  # a .deb has three; more is no package
KERNEL = re.compile(r"^(?:\./)?boot/vmlinu[xz]-")
CONFIG = re.compile(r"^(?:\./)?boot/config-")
TAR_MAX_MEMBERS = 100_000
#: Largest boot/config-* kept for check (Debian's are about 300 KB).
MAX_COMPANION = 8 << 20

rule("deb/no-kernel", "error",
     "the package holds no kernel image (boot/vmlinuz-* or boot/vmlinux-*)",
     "kimage reads a Debian kernel package the way its maintainer scripts install it: the "
     "kernel is data.tar's boot/vmlinuz-VERSION (boot/vmlinux-VERSION on ppc64el). A package "
     "without one is no kernel package, or a data.tar kimage cannot read.",
     "deb(5); Debian kernel handbook, 'linux-image-* package contents'",
     ())


def probe(view) -> bool:
    return view.read(0, 8) == AR_MAGIC


def unwrap(view, ctx: Context) -> Unwrapped:
    """The ar layer: find ``data.tar.*`` and hand on that member."""
    layer = Layer("deb", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    length = view.known_length
    members = []
    pos = len(AR_MAGIC)
    data = None
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
        pos = start + size + (size & 1)
    layer.details["members"] = members
    if members and members[0]["name"] != "debian-binary":
        layer.details["not_a_deb"] = True
    if data is None:
        result.findings.append(finding("deb/no-kernel", "no data.tar.* member in the ar "
                                       "archive", offset=0))
        return result
    layer.details["data_member"] = data["name"]
    result.view = view.slice(data["offset"], data["size"])
    return result


def tar_probe(view) -> bool:
    return view.read(257, 5) == b"ustar"


def tar_unwrap(view, ctx: Context) -> Unwrapped:
    """The tar layer: stream through the members to the first kernel image."""
    import tarfile

    layer = Layer("tar", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    d = layer.details
    count = 0
    try:
        tf = tarfile.open(fileobj=ViewFile(view), mode="r|")  # noqa: SIM115 (nothing to close)
        while True:
            member = tf.next()
            tf.members = []  # streaming: keep no list of what was passed
            if member is None:
                break
            count += 1
            if count > TAR_MAX_MEMBERS:
                result.findings.append(finding(
                    "layer/decompression-limit", f"more than {TAR_MAX_MEMBERS} tar members "
                    f"before a kernel image"))
                return result
            if not member.isfile():
                continue
            if CONFIG.match(member.name) and "config_member" not in d:
                d["config_member"] = member.name
                d["config_size"] = member.size
                if member.size <= MAX_COMPANION:
                    stream = tf.extractfile(member)  # the current member: streaming allows it
                    result.companions["config"] = stream.read(MAX_COMPANION) if stream else b""
            if KERNEL.match(member.name):
                d.update({"member": member.name, "member_size": member.size,
                          "member_offset": member.offset_data,
                          "selected": "the first boot/vmlinu[xz]-* member"})
                result.view = view.slice(member.offset_data, member.size)
                length = getattr(view, "known_length", None)
                if length is not None and member.offset_data + member.size > length:
                    result.findings.append(finding(
                        "layer/lying-size", f"tar member {member.name} declares "
                        f"{member.size:#x} bytes, the archive ends before"))
                return result
    except tarfile.ReadError as exc:
        text = str(exc)
        rule_id = "layer/truncated" if "unexpected end" in text else "layer/corrupt"
        result.findings.append(finding(rule_id, f"tar archive after {count} members: {text}"))
        return result
    d["members_seen"] = count
    result.findings.append(finding("deb/no-kernel", f"no boot/vmlinuz-* or boot/vmlinux-* "
                                   f"among the {count} members of the data archive"))
    return result
