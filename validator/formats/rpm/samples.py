"""Kernel RPMs for the seed corpus, as rpmbuild writes them (``writer``): Fedora's
kernel-core layout (lib/modules/V/vmlinuz, lib/modules/V/config and a %ghost
/boot/vmlinuz-V) around an arm64 Image, or the /boot layout (boot/vmlinux-V, boot/config-V)
around a ppc64 vmlinux, with a gzip, xz or zstd payload; and their near-valid variants.
"""

from __future__ import annotations

from collections.abc import Callable

from validator.formats.compression.writer import compress
from validator.formats.deb.samples import RELEASE, _kernel, config_text
from validator.formats.rpm import writer
from validator.formats.rpm.files import GHOST
from validator.formats.sampling import Chooser, Sample

ARCH = {"arm64-image": "aarch64", "ppc64-elf": "ppc64le"}
CODECS = ("gzip", "xz", "zstd")

RPM_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    # neither header nor payload holds a kernel (the config alone)
    "no-kernel": (("rpm/no-kernel",), lambda p: True),
    # the header lists the kernel, the payload does not hold it
    "payload-lacks-kernel": (("rpm/no-kernel",), lambda p: True),
    # the main header's magic is 8e ad e9
    "bad-header-magic": (("rpm/bad-header",), lambda p: True),
    # the main header's index count is 65536 more than its entries (rpm's limit: 65535)
    "header-limit": (("rpm/header-limit",), lambda p: True),
    # PAYLOADCOMPRESSOR names one codec, the payload is in another
    "payload-mismatch": (("rpm/payload-mismatch",), lambda p: True),
    # the signature's SIZE (header + payload) runs past the file
    "size-lying": (("layer/lying-size",), lambda p: True),
}


def _rpm(c: Chooser, mutation: str | None) -> Sample:
    kernel, p, inner_expect, stem = _kernel(c)
    arch = ARCH[p["inner"]]
    codec = c.choice(CODECS)
    if stem == "vmlinuz":
        path, config = f"lib/modules/{RELEASE}/vmlinuz", f"lib/modules/{RELEASE}/config"
        ghost = [(f"boot/vmlinuz-{RELEASE}", b"", GHOST)]
    else:
        path, config, ghost = f"boot/vmlinux-{RELEASE}", f"boot/config-{RELEASE}", []
    p.update({"release": RELEASE, "arch": arch, "kernel_path": path, "codec": codec})
    if mutation == "any":
        mutation = c.choice(tuple(RPM_MUTATIONS))
    files = [(config, config_text(p), 0), *ghost]
    if mutation != "no-kernel":
        files.append((path, kernel, 0))
    kw: dict = {}
    if mutation == "payload-lacks-kernel":
        kw["payload_files"] = [(config, config_text(p))]
    elif mutation == "bad-header-magic":
        kw["header_magic"] = b"\x8e\xad\xe9\x01"
    elif mutation == "header-limit":
        kw["header_il_extra"] = 0x10000
    elif mutation == "payload-mismatch":
        other = c.choice(tuple(x for x in CODECS if x != codec))
        archive = writer.cpio([(f, 0o100644, d) for f, d, g in sorted(files)
                               if not g & GHOST])
        kw["stream"] = compress(other, archive)
    elif mutation == "size-lying":
        kw["size_extra"] = c.integer(1, 0xFFFFFF)
    name = "kernel-core" if stem == "vmlinuz" else "kernel"
    data = writer.package(name, "6.1.0", "1.kimage", arch, files, codec, **kw)
    if mutation is None:
        return Sample("rpm", f"{name}-{arch}-{p['inner']}-{codec}", data, inner_expect,
                      None, p)
    return Sample("rpm", mutation, data, RPM_MUTATIONS[mutation][0], mutation, p)


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"rpm": (lambda c, m: _rpm(c, m), RPM_MUTATIONS)}
