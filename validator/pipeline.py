"""read → unwrap layers → identify → parse → facts: one image, one ``ImageResult``.

The unwrap chain takes off, in a loop, every wrapper a loader takes off: Debian package
(ar → data.tar.* → boot/vmlinu[xz]-*), U-Boot uImage, Android boot image, EFI zboot,
compression (by magic), until a header format (arm64 Image, ppc64 head, ELF vmlinux) is
found. Each wrapper adds a ``Layer``; a wrapper that fails stops the chain with its
findings. Decoding is streamed and bounded by ``Limits``.

``payload_size`` is the length of the innermost view: the bytes a loader places. For a
decoded view it is the decoded length when kimage decoded to the end (always with
``Limits(decode_all=True)``; for inspect, when the banner search reached the end), else
None. ``kernel_version`` comes from the banner: a raw file is scanned whole, and so is a
decoded kernel when the streams are decoded to their end anyway (``decode_all``: the search
goes ahead of the decoding, which then goes on from there); otherwise, through a decoding
layer, the search stops after ``Limits.scan_read`` bytes of the input file, and a banner
beyond that gives null.
"""

from __future__ import annotations

import os

from validator import banner, conventions, formats, import_module
from validator.catalogue import ALL_LOADERS, finding, rule
from validator.formats import elf
from validator.io.limits import Context, Limits
from validator.io.source import InputError, Source
from validator.io.views import View
from validator.model import ImageResult

__all__ = ["Limits", "analyse", "InputError"]

#: No kernel header fits in fewer bytes (the arm64 magic ends at 0x3c).
MIN_SIZE = 0x3C

rule("layer/unknown-format", "error",
     "no kernel image header was found",
     "Neither an arm64 Image header (magic ARM\\x64 at 0x38), a ppc64 head (FIXUP_ENDIAN or "
     "a branch and a trap at 0), nor an ELF vmlinux for either architecture was found, so no "
     "loader kimage knows would accept the file as a kernel.",
     "Linux 6.1 Documentation/arm64/booting.rst 'Call the kernel image' (ARM\\x64 at "
     "0x38); Linux 6.1 arch/powerpc/kernel/head_64.S (the head); the ELF gABI",
     ALL_LOADERS)
rule("layer/nesting-limit", "error",
     "wrappers are nested deeper than kimage unwraps",
     "No loader unwraps more than a few layers (a package, a container, zboot, one "
     "compression); kimage stops after Limits.max_depth (8) so that a file wrapped in "
     "itself over and over cannot make it work without end.",
     "validator/io/limits.py (Limits.max_depth); README 'Layers'",
     ())


def analyse(path: str | os.PathLike, limits: Limits | None = None,
            fields: bool = True) -> ImageResult:
    """Decode every layer and header field of the image at ``path``; ``fields``: work out
    the header's fields for display (``ImageResult.fields``), which only the reports that
    show them need (else []).

    Raises ``InputError`` when the path cannot be read as an image at all.
    """
    limits = limits or Limits()
    with Source(path) as source:
        if source.size < MIN_SIZE:
            raise InputError(f"{source.path}: {source.size} bytes, too short for any kernel "
                             f"image header (an arm64 Image header is 64 bytes)")
        result = ImageResult(path=os.fspath(path), file_size=source.size)
        ctx = Context(limits)
        view = View.whole(source)
        try:
            view, established = _unwrap(view, result, ctx)
            if view is not None:
                _decode(view, result, ctx)
            shown = result.fields  # a decoder's list, or its function that makes it
            result.fields = (shown() if callable(shown) else shown) if fields else []
            if result.format != "unknown":
                result.facts["compression"] = established.get("compression")
                result.facts["kernel_version"] = (
                    established["kernel_version"] if "kernel_version" in established
                    else result.facts.get("kernel_version")  # a header's own string (x86)
                    or _kernel_version(view, source, limits))
                conventions.apply(result)
        finally:
            result.findings += ctx.finish()
            _late_elf_truncation(result, view)
        if result.format != "unknown" and view is not None and view.transformed:
            result.payload_size = view.known_length
        return result


def _late_elf_truncation(result: ImageResult, view) -> None:
    """A decoded vmlinux's length is known only once its stream was decoded to the end:
    check its first PT_LOAD against it then."""
    elf = next((layer for layer in result.layers if layer.kind == "elf"), None)
    if elf is None or view is None or not elf.details.get("loads"):
        return
    length = getattr(view, "known_length", None)
    if length is None or any(f.rule == "elf/truncated" for f in result.findings):
        return
    from validator.formats.elf import decoder as elf_layer

    result.findings += elf_layer.truncation(elf.details["loads"], length)


def _header_for_machine(machine: int | None):
    """The package and decoder of the registered header format whose ELF e_machine is
    ``machine``; (None, None) when none is."""

    for package in formats.each("header"):
        if getattr(import_module(package), "ELF_MACHINE", None) == machine:
            return package, formats.part(package, "decoder")
    return None, None


def _unwrap(view, result: ImageResult, ctx: Context):
    """Take off wrappers until none matches; (innermost view or None, the facts the
    layers established: ``compression``, the innermost's; ``kernel_version`` when a
    layer read the banner on its way, as a package's tar layer does)."""
    facts: dict = {"compression": None}
    depth = 0
    while True:
        if elf.probe(view) or formats.own_magic(view):
            return view, facts
        package, unwrap = next(((p, u) for p, probe, u in formats.unwraps()
                                if probe(view)), (None, None))
        if unwrap is None:
            return view, facts
        if depth >= ctx.limits.max_depth:
            result.findings.append(finding(
                "layer/nesting-limit", f"more than {ctx.limits.max_depth} wrappers; the "
                f"next one starts with {view.read(0, 8).hex(' ')}"))
            return None, facts
        unwrapped = unwrap(view, ctx)
        result.decoded_by.append(package)
        result.layers.append(unwrapped.layer)
        result.findings += unwrapped.findings
        result.companions.update(unwrapped.companions)
        facts.update(unwrapped.facts)
        if unwrapped.view is None:
            return None, facts
        view = unwrapped.view
        depth += 1


def _decode(view, result: ImageResult, ctx: Context) -> None:
    if elf.probe(view):
        from validator.formats.elf import decoder as elf_layer

        unwrapped = elf_layer.unwrap(view)
        result.layers.append(unwrapped.layer)
        result.findings += unwrapped.findings
        foreign = _foreign_elf(unwrapped)
        if foreign is not None:  # another architecture's vmlinux: named, not judged
            result.decoded_by.append("validator.formats.foreign")
            _apply(result, "foreign", view, foreign)
            return
        if unwrapped.view is None:
            return
        package, header = _header_for_machine(unwrapped.machine)
        if header is not None:
            result.decoded_by.append(package)
            _apply(result, header.FORMAT, unwrapped.view,
                   header.decode(unwrapped.view, elf_endianness=unwrapped.endianness))
        else:
            result.findings.append(finding(
                "elf/unsupported-machine",
                f"ELF e_machine {unwrapped.layer.details.get('machine')} is none of "
                f"EM_AARCH64, EM_PPC64, EM_RISCV", offset=0x12))
        return
    package, header = _probed_header(view)
    if header is not None:
        result.decoded_by.append(package)
        _apply(result, header.FORMAT, view, header.decode(view))
        if result.header.get("has_efi_stub"):  # the Image is its own PE file
            _describe_pe(view, result)
    elif any(v.failed for _, v in ctx.decoded) and len(view.read(0, MIN_SIZE)) < MIN_SIZE:
        return  # a decoder stopped before the header: its finding says why
    elif any(layer.kind == "zboot" for layer in result.layers):
        result.findings.append(finding(
            "zboot/no-arm64-image", f"the decompressed payload starts with "
            f"{view.read(0, 8).hex(' ')} and has {view.read(0x38, 4).hex(' ') or 'nothing'} "
            f"at 0x38, not ARM\\x64", offset=0))
    elif (foreign := _foreign_uimage(result)) is not None:  # another architecture's
        result.decoded_by.append("validator.formats.foreign")  # uImage: named, not judged
        _apply(result, "foreign", view, foreign)
    else:
        start = view.read(0, 8)
        result.findings.append(finding(
            "layer/unknown-format",
            f"expected an arm64 Image (ARM\\x64 at 0x38), a ppc64 head or an ELF vmlinux; "
            f"found {start.hex(' ')} at 0 and {view.read(0x38, 4).hex(' ') or 'nothing'} "
            f"at 0x38", offset=0))


def _probed_header(view):
    """The package and decoder of the first registered header format whose probe (its
    magic) matches ``view``; else of the first whose ``probe_without_magic`` (a header
    recognised by other means than its magic: an EFI stub's PE Machine, a deprecated
    magic) does; else (None, None). A decoder is imported once its package's test passed
    (``formats.header_probes``); the fallbacks are asked only when no probe matched."""
    for package, probe in formats.header_probes():
        if probe(view):
            return package, formats.part(package, "decoder")
    for package in formats.each("header"):
        decoder = formats.part(package, "decoder")
        fallback = getattr(decoder, "probe_without_magic", None)
        if fallback is not None and fallback(view):
            return package, decoder
    return None, None


def _foreign_uimage(result: ImageResult):
    """The foreign decoding of a uImage whose ih_arch is an architecture kimage does not
    describe, when its payload is no kernel kimage knows."""
    uimage = next((layer for layer in result.layers if layer.kind == "uimage"), None)
    if uimage is None:
        return None
    from validator.formats.foreign import decoder as foreign

    return foreign.for_uimage(uimage.details.get("arch"))


def _foreign_elf(unwrapped):
    """The foreign decoding of an ELF of an architecture kimage does not describe."""
    from validator.formats.foreign import decoder as foreign

    return foreign.for_elf(unwrapped.machine, unwrapped.layer.details.get("machine"))


def _describe_pe(view, result: ImageResult) -> None:
    """The EFI stub's PE headers, beside the header (``derived["pe"]``): the Image is its
    own PE file, no wrapper is taken off."""
    from validator.formats.pe import decoder as pe

    details, findings = pe.describe(view)
    image_size = result.header.get("image_size")
    if "size_of_image" in details and image_size is not None:
        details["size_of_image_matches_image_size"] = details["size_of_image"] == image_size
    result.derived["pe"] = details
    result.findings += findings


def _kernel_version(view, source: Source, limits: Limits) -> str | None:
    if view is None:
        return None
    if not view.transformed:  # the kernel's own bytes in the file, not a neighbour's
        return banner.kernel_version(source, view.base, view.base + view.length)
    return banner.kernel_version(_Budgeted(view, None if limits.decode_all else
                                           limits.scan_read))


class _Budgeted:
    """A view whose ``scan`` stops after ``budget`` bytes of the input file were read
    (None: at the end of the view)."""

    def __init__(self, view, budget: int | None):
        self._view = view
        self._budget = budget

    def scan(self, pattern, max_match: int = 256):
        return self._view.scan(pattern, max_match, budget=self._budget)


def _apply(result: ImageResult, fmt: str, view, decoded) -> None:
    result.findings += decoded.findings
    if not decoded.header:
        return
    result.format = fmt
    result.header_offset = view.base
    result.payload_size = view.known_length
    result.header = decoded.header
    result.derived = decoded.derived
    result.fields = decoded.fields
    result.facts = decoded.facts
