"""RPM packages: lead → signature header → header → compressed cpio payload → the kernel.

``kimage check kernel-core-*.rpm`` reaches the kernel without unpacking to disk. The
``rpm`` layer reads the lead (96 bytes, ed ab ee db, signature type 5), the signature
header (padded to 8 bytes) and the main header (``validator.formats.rpm.header``), finds
the kernel the header's file list names (``files``: ``lib/modules/V/vmlinuz`` as Fedora's
kernel-core ships it, or ``boot/vmlinuz-V``; never a ``%ghost``) and checks that the
payload starts with the codec PAYLOADCOMPRESSOR names (rpm opens the payload with that
codec and no other: lib/rpmio, ``Fdopen(fd, "r.<io>")``). The compression layer decodes
the payload as a stream; the ``cpio`` layer walks its members only as far as the kernel
(the companions, config and System.map, come before it in rpm's sorted payload) and
hands on the kernel's member: the rest of a large payload is never decoded.
"""

from __future__ import annotations

import struct

from validator.catalogue import finding, rule
from validator.formats.compression import (
    codec_of,
    layer_rules,  # noqa: F401 (the layer/* rules)
)
from validator.formats.results import Unwrapped
from validator.formats.rpm import (
    ARCH,
    COMPRESSORS,
    CPIO_CRC,
    CPIO_NEWC,
    CPIO_STRIPPED,
    EPOCH,
    LEAD_SIZE,
    NAME,
    PAYLOADCOMPRESSOR,
    PAYLOADFORMAT,
    RELEASE,
    SIG_LONGSIZE,
    SIG_SIZE,
    SIGTYPE_HEADERSIG,
    VERSION,
)
from validator.io.limits import Context
from validator.io.views import SliceView, View
from validator.model import Layer

REFERENCE = ("rpm-4.18.0 manual, format.md (lead, signature, header, payload), "
             "tags.md; lib/header.c hdrblobVerifyInfo, lib/header_internal.h")

rule("rpm/bad-header", "error",
     "the package's lead, signature header or header is malformed",
     "rpm reads a package as a 96-byte lead (magic ed ab ee db, major version 3 or 4, "
     "signature type 5), a signature header padded to 8 bytes, and the main header: "
     "magic 8e ad e8 01, an index of 16-byte entries and a data store, each entry's data "
     "inside the store, aligned for its type. rpm refuses a package whose headers break "
     "this, so it installs no kernel from it.", REFERENCE, ())
rule("rpm/header-limit", "error",
     "a header declares more entries or data than rpm or kimage reads",
     "rpm refuses a header of more than 65535 entries or 256 MiB of data "
     "(hdrchkTags, hdrchkData); kimage reads at most 8 MiB of one header's data (a "
     "kernel package's is a few hundred KiB) so that a forged size cannot make it read "
     "hundreds of megabytes into memory.", REFERENCE, ())
rule("rpm/no-kernel", "error",
     "the package holds no kernel image (lib/modules/V/vmlinuz or boot/vmlinuz-V)",
     "kimage reads an rpm kernel package the way it installs: Fedora's kernel-core ships "
     "the kernel as /lib/modules/V/vmlinuz (its /boot/vmlinuz-V is a %ghost that "
     "kernel-install fills), other packages as /boot/vmlinuz-V. A package whose header "
     "lists neither, or whose payload lacks the file its header lists, gives no kernel.",
     "rpm-4.18.0 manual, tags.md (BASENAMES, DIRNAMES, FILEFLAGS); Fedora kernel.spec "
     "(kernel-core %files)", ())
rule("rpm/payload-mismatch", "error",
     "the payload is not what the header says (codec, format, or a file's size)",
     "rpm decodes the payload with the codec the header's PAYLOADCOMPRESSOR names (gzip "
     "when absent) as the format PAYLOADFORMAT names (cpio), and checks each file against "
     "the header's file list: a payload in another codec, another format, or whose kernel "
     "member's size differs from the header's, fails to install.",
     "rpm-4.18.0 manual, tags.md (PAYLOADCOMPRESSOR, PAYLOADFORMAT, FILESIZES); "
     "lib/fsm.c", ())


class PayloadView(View):
    """The payload of a package in the input file, with what to look for in it."""

    __slots__ = ("rpm",)


class PayloadSlice(SliceView):
    """The payload of a package inside a decoded stream."""


def unwrap(view, ctx: Context) -> Unwrapped:
    from validator.formats.rpm import files, header

    layer = Layer("rpm", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    d = layer.details
    lead = view.read(0, LEAD_SIZE)
    if len(lead) < LEAD_SIZE:
        result.findings.append(finding("layer/truncated", f"the rpm lead is {len(lead)} of "
                                       f"its {LEAD_SIZE} bytes", offset=0))
        return result
    major, minor = lead[4], lead[5]
    d["lead_version"] = f"{major}.{minor}"
    d["lead_name"] = lead[10:76].split(b"\0", 1)[0].decode("utf-8", "replace")
    sigtype = struct.unpack_from(">H", lead, 78)[0]
    if major not in (3, 4) or sigtype != SIGTYPE_HEADERSIG:
        result.findings.append(finding(
            "rpm/bad-header", f"lead: version {major}.{minor}, signature type {sigtype} "
            f"(rpm reads version 3 or 4, signature type {SIGTYPE_HEADERSIG})", offset=0))
        return result
    try:
        sig = header.read(view, LEAD_SIZE, "signature header")
        start = LEAD_SIZE + sig.size
        start += -start % 8
        main = header.read(view, start, "header")
        target = files.target(main)
    except header.HeaderError as exc:
        result.findings.append(finding(exc.rule, exc.message))
        return result
    payload = start + main.size
    try:
        _identity(main, d)
        d["header_offset"], d["payload_offset"] = start, payload
        declared = (sig.ints(SIG_LONGSIZE) or sig.ints(SIG_SIZE) or [None])[0]
        compressor = main.string(PAYLOADCOMPRESSOR) or "gzip"
        payload_format = main.string(PAYLOADFORMAT) or "cpio"
    except header.HeaderError as exc:
        result.findings.append(finding(exc.rule, exc.message))
        return result
    d.update({"payload_compressor": compressor, "payload_format": payload_format,
              "files": target.count})
    length = view.known_length
    if isinstance(declared, int):
        d["signed_size"] = declared
        if length is not None and start + declared > length:
            result.findings.append(finding(
                "layer/lying-size", f"the signature header's size {declared:#x} (header and "
                f"payload) runs past the file's end by {start + declared - length:#x} "
                f"bytes", offset=LEAD_SIZE))
    if target.kernel is None:
        result.findings.append(finding(
            "rpm/no-kernel", f"the header's {target.count} files hold no lib/modules/V/"
            f"vmlinuz or boot/vmlinu[xz]-V (outside %ghost)"))
        return result
    d.update({"kernel": target.kernel, "kernel_release": target.release})
    if payload_format != "cpio":
        result.findings.append(finding("rpm/payload-mismatch", f"PAYLOADFORMAT is "
                                       f"{payload_format!r}, not cpio", offset=payload))
        return result
    head = view.read(payload, 8)
    if not head:
        result.findings.append(finding("layer/truncated", f"the package ends at its "
                                       f"header's end ({payload:#x}): no payload",
                                       offset=payload))
        return result
    found = codec_of(head) or ("identity" if head[:6] in (CPIO_NEWC, CPIO_CRC, CPIO_STRIPPED)
                               else None)
    if compressor not in COMPRESSORS and compressor != "identity":
        result.findings.append(finding(
            "layer/unsupported-compression", f"PAYLOADCOMPRESSOR {compressor!r}: kimage "
            f"decodes {', '.join(COMPRESSORS)} payloads", offset=payload))
        return result
    if found != compressor:
        result.findings.append(finding(
            "rpm/payload-mismatch", f"PAYLOADCOMPRESSOR is {compressor!r}, the payload "
            f"starts with {head.hex(' ')} ({found or 'no known codec'})", offset=payload))
        return result
    size = (length - payload) if length is not None else 1 << 62  # to the stream's end
    if isinstance(view, View):
        inner = PayloadView(view.source, view.base + payload, max(0, size))
    else:
        inner = PayloadSlice(view, payload, max(0, size))
    inner.rpm = target
    result.view = inner
    return result


def _identity(main, d: dict) -> None:
    """``package`` (NAME), ``package_version`` ([EPOCH:]VERSION-RELEASE, as a Debian
    Version carries its revision), ``architecture`` (ARCH) and ``nevra``."""
    name, version, release = main.string(NAME), main.string(VERSION), main.string(RELEASE)
    epochs, arch = main.ints(EPOCH), main.string(ARCH)
    epoch = epochs[0] if epochs else None
    evr = None
    if version is not None:
        evr = (f"{'' if epoch is None else f'{epoch}:'}{version}"
               f"{'' if release is None else f'-{release}'}")
    fields = {"package": name, "package_version": evr, "architecture": arch}
    d.update({key: value for key, value in fields.items() if value is not None})
    if name and evr:
        d["nevra"] = f"{name}-{evr}{'.' + arch if arch else ''}"


def _target(view):
    """The ``files.Target`` of an rpm payload ``view`` (decoded, or stored as is)."""
    own = getattr(view, "rpm", None)
    if own is not None:
        return own
    return getattr(getattr(view, "parent", None), "rpm", None) if view.transformed else None


def cpio_probe(view) -> bool:
    return _target(view) is not None and view.read(0, 6) in (CPIO_NEWC, CPIO_CRC,
                                                             CPIO_STRIPPED)


def cpio_unwrap(view, ctx: Context) -> Unwrapped:
    from validator.formats.rpm import walk

    return walk.unwrap(view, ctx, _target(view))


#: What the pipeline tries, in order: the package, then (below the compression layer) the
#: payload's cpio archive.
