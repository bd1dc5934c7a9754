"""Debian kernel packages for the seed corpus, written as ``dpkg-deb --build`` writes them
(deb(5)): an ``ar`` archive of ``debian-binary`` ("2.0\\n"), ``control.tar.xz`` (./control)
and ``data.tar.xz`` holding ./boot/vmlinuz-V (an arm64 Image; ./boot/vmlinux-V, a ppc64
vmlinux, as on ppc64el) and ./boot/config-V; and their near-valid variants.

The ar member header is dpkg's (dpkg lib/dpkg/ar.c ``dpkg_ar_member_put_header``: name
padded to 16, mtime, uid 0, gid 0, mode 100644, size, "`\\n"; an odd member padded with
"\\n"); the tar archives are GNU format with "./" paths, as dpkg-deb has GNU tar write them.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable

from validator.formats.arm64_image.samples import (
    arm64_bytes,
    arm64_header,
    arm64_params,
    arm64_valid_expect,
)
from validator.formats.compression.writer import compress
from validator.formats.deb import AR_MAGIC
from validator.formats.elf import EM_PPC64
from validator.formats.elf.writer import elf64
from validator.formats.ppc64_head.samples import (
    _ppc64_head_bytes,
    ppc64_params,
    ppc64_valid_expect,
)
from validator.formats.sampling import Chooser, Sample

#: The kernel release the packages install (the arm64 samples' banner names it).
RELEASE = "6.1.0-kimage-fuzz"
MTIME = 1_700_000_000  # fixed: same seed, same bytes
ARCH = {"arm64-image": "arm64", "ppc64-elf": "ppc64el"}

DEB_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    # data.tar holds the config but no boot/vmlinu[xz]-*
    "no-kernel": (("deb/no-kernel",), lambda p: True),
    # the kernel's path is a symlink out of the package (/usr/lib/...): nothing of it is
    # in the package
    "kernel-symlink-outside": (("deb/no-kernel",), lambda p: True),
    # the ar archive has no data.tar member at all
    "no-data-member": (("deb/no-kernel",), lambda p: True),
    # data.tar's ar header declares more bytes than the file holds
    "member-size-lying": (("layer/lying-size",), lambda p: True),
    # Linux 7.x's linux-image-V: documentation files only (the kernel is in linux-binary-V)
    "metapackage": (("deb/metapackage",), lambda p: True),
    # Linux 7.x's linux-base-V: usr/lib/modules/V/config and System.map, no kernel
    "kernel-companions": (("deb/kernel-companions",), lambda p: True),
}


def ar_member(name: str, data: bytes, *, size: int | None = None) -> bytes:
    """One ar member as dpkg writes it: the 60-byte header, the data, "\\n" if odd."""
    size = len(data) if size is None else size
    head = (f"{name:<16}{MTIME:<12}{0:<6}{0:<6}{'100644':<8}{size:<10}".encode("ascii")
            + b"`\n")
    return head + data + (b"\n" if len(data) & 1 else b"")


def tar_bytes(entries: list[tuple[str, str, bytes | str]],
              tar_format: int = tarfile.GNU_FORMAT) -> bytes:
    """A tar archive (GNU format, as dpkg-deb has GNU tar write it, unless ``tar_format``
    says otherwise) of ``(path, kind, data or link target)``, kind "dir", "file" or
    "symlink", in this order (root-owned, fixed mtime)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tar_format) as tf:
        for path, kind, data in entries:
            info = tarfile.TarInfo(path)
            info.mtime, info.uname, info.gname = MTIME, "root", "root"
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, data, 0o777
                tf.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def control_text(package: str, arch: str, installed_kib: int) -> bytes:
    """DEBIAN/control of a linux-image package (deb-control(5) fields dpkg-deb needs)."""
    return (f"Package: {package}\nSource: linux\nVersion: {RELEASE}-1\n"
            f"Architecture: {arch}\nMaintainer: kimage <kimage@example.invalid>\n"
            f"Installed-Size: {installed_kib}\nSection: kernel\nPriority: optional\n"
            f"Description: Linux {RELEASE} (kimage seed corpus)\n").encode("ascii")


def deb_bytes(control: bytes, data_entries: list[tuple], *, data: bool = True,
              lying: int = 0) -> bytes:
    """A .deb: debian-binary, control.tar.xz, data.tar.xz (``lying``: extra bytes the
    data member's header declares; ``data=False``: no data member)."""
    out = AR_MAGIC + ar_member("debian-binary", b"2.0\n")
    out += ar_member("control.tar.xz", compress("xz", tar_bytes(
        [("./", "dir", b""), ("./control", "file", control)])))
    if data:
        stream = compress("xz", tar_bytes(data_entries))
        out += ar_member("data.tar.xz", stream, size=len(stream) + lying)
    return out


def config_text(p: dict) -> bytes:
    """The ./boot/config-V of the kernel ``p`` describes, in scripts/kconfig's form, with
    the symbols its header follows (arch/arm64/Kconfig CPU_BIG_ENDIAN, ARM64_*_PAGES;
    drivers/firmware/efi/Kconfig EFI_STUB; arch/powerpc/Kconfig RELOCATABLE,
    RELOCATABLE_TEST; arch/powerpc/platforms/Kconfig.cputype CPU_*_ENDIAN)."""
    def sym(name: str, on: bool) -> str:
        return f"CONFIG_{name}=y" if on else f"# CONFIG_{name} is not set"

    if p["inner"] == "arm64-image":
        lines = ["CONFIG_ARM64=y", sym("CPU_BIG_ENDIAN", p["endian"] == "be"),
                 *(sym(f"ARM64_{size.upper()}_PAGES", size == p["page"])
                   for size in ("4k", "16k", "64k")),
                 "CONFIG_RELOCATABLE=y", "CONFIG_EFI=y", sym("EFI_STUB", p["efi"])]
        karch = "arm64"
    else:
        lines = ["CONFIG_PPC64=y", sym("CPU_BIG_ENDIAN", p["endian"] == "big"),
                 sym("CPU_LITTLE_ENDIAN", p["endian"] == "little"),
                 sym("RELOCATABLE", p["run_at_load"] != "norel"),
                 sym("RELOCATABLE_TEST", p["run_at_load"] == "stay")]
        karch = "powerpc"
    head = (f"#\n# Automatically generated file; DO NOT EDIT.\n"
            f"# Linux/{karch} {RELEASE} Kernel Configuration\n#\n")
    return (head + "\n".join(lines) + "\n").encode("ascii")


def _kernel(c: Chooser) -> tuple[bytes, dict, tuple[str, ...], str]:
    """The inner kernel: (bytes, params, its valid findings, its file name in /boot)."""
    if c.integer(0, 2):
        p = arm64_params(c, c.choice(("4.6", "5.8")))
        return (arm64_bytes(arm64_header(p), p), {"inner": "arm64-image", **p},
                arm64_valid_expect(p), "vmlinuz")
    p = ppc64_params(c, c.choice(("D", "E")))
    data = elf64(_ppc64_head_bytes(c, p, None), endian=p["endian"], machine=EM_PPC64)
    return data, {"inner": "ppc64-elf", **p}, ppc64_valid_expect(p, elf=True), "vmlinux"


def _deb(c: Chooser, mutation: str | None) -> Sample:
    kernel, p, inner_expect, stem = _kernel(c)
    arch = ARCH[p["inner"]]
    config = config_text(p)
    path = f"./boot/{stem}-{RELEASE}"
    p.update({"release": RELEASE, "arch": arch, "kernel_path": path})
    if mutation == "any":
        mutation = c.choice(tuple(DEB_MUTATIONS))
    entries = [("./", "dir", b""), ("./boot/", "dir", b""),
               (f"./boot/config-{RELEASE}", "file", config)]
    if mutation == "metapackage":
        doc = f"./usr/share/doc/linux-image-{RELEASE}"
        entries = [("./", "dir", b""), ("./usr/", "dir", b""), ("./usr/share/", "dir", b""),
                   ("./usr/share/doc/", "dir", b""), (doc, "symlink", "linux-base"),
                   (f"./usr/share/bug/linux-image-{RELEASE}", "file", b"")]
    elif mutation == "kernel-companions":
        base = f"./usr/lib/modules/{RELEASE}/"
        entries = [("./", "dir", b""), (base, "dir", b""), (base + "config", "file", config),
                   (base + "System.map", "file", b"ffffffc080000000 T _text\n")]
    elif mutation == "kernel-symlink-outside":
        entries.append((path, "symlink", f"/usr/lib/linux/{stem}-{RELEASE}"))
    elif mutation != "no-kernel":
        entries.append((path, "file", kernel))
    control = control_text(f"linux-image-{RELEASE}", arch, (len(kernel) + 1023) // 1024)
    kw: dict = {}
    if mutation == "no-data-member":
        kw["data"] = False
    elif mutation == "member-size-lying":
        kw["lying"] = c.integer(1, 0xFFFFFF)
    data = deb_bytes(control, entries, **kw)
    if mutation is None:
        return Sample("deb", f"linux-image-{arch}-{p['inner']}", data,
                      inner_expect, None, p)
    return Sample("deb", mutation, data, DEB_MUTATIONS[mutation][0], mutation, p)


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"deb": (lambda c, m: _deb(c, m), DEB_MUTATIONS)}
